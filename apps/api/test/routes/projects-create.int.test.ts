import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CallOptions } from "../support.ts";
import { auditSecrets, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, ciWeb, readWeb, createProject, refused } = fx;

describe("POST /v1/projects", () => {
  const valid = { name: "never-made", domain: "never.test", port: 8080 };

  it("creates a project for the admin: 201, the row stored, env values never echoed", async () => {
    const before = await h.count("projects");
    const secretValue = `postgres://user:${randomBytes(8).toString("hex")}@db/shop`;
    const webhookSecret = randomBytes(20).toString("hex");
    const res = await h.call("POST", "/v1/projects", {
      json: {
        name: "shop",
        domain: "shop.preview.test",
        port: 3000,
        healthcheckPath: "/health",
        env: { DATABASE_URL: secretValue },
        webhookSecret: webhookSecret,
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^prj_[0-9a-f]+$/),
      name: "shop",
      domain: "shop.preview.test",
      port: 3000,
      healthcheckPath: "/health",
      env: ["DATABASE_URL"],
      createdAt: expect.any(String),
    });
    expect(res.text).not.toContain(secretValue);
    expect(res.text).not.toContain(webhookSecret);
    expect(await h.count("projects")).toBe(before + 1);
    const [row] = await h.sql`select * from projects where name = 'shop'`;
    expect(row).toMatchObject({
      id: res.body.id,
      domain: "shop.preview.test",
      port: 3000,
      healthcheck_path: "/health",
    });
    expect(row?.env).toEqual({ DATABASE_URL: secretValue });
    expect(row?.webhook_secret).toBe(webhookSecret);

    for (const path of ["/v1/projects", "/v1/projects/shop"]) {
      const shown = await h.call("GET", path);
      expect(shown.status).toBe(200);
      expect(shown.text).not.toContain(secretValue);
      expect(shown.text).not.toContain(webhookSecret);
    }
  });

  it("applies defaults for healthcheckPath and env", async () => {
    const res = await h.call("POST", "/v1/projects", {
      json: { name: "defaults", domain: "defaults.test", port: 80 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ healthcheckPath: "/", env: [] });
  });

  it("refuses a duplicate name with 409 and keeps the first project", async () => {
    const first = await createProject("dup", "dup.test", 8000);
    await refused(
      "POST",
      "/v1/projects",
      { json: { name: "dup", domain: "other.test", port: 9000 } },
      409,
      "conflict",
    );
    const rows = await h.sql`select id, domain, port from projects where name = 'dup'`;
    expect(rows.map((r) => ({ ...r }))).toEqual([{ id: first.id, domain: "dup.test", port: 8000 }]);
  });

  const unauthenticated: Array<[string, () => CallOptions]> = [
    ["no Authorization header", () => ({ token: null })],
    ["a wrong token", () => ({ token: `ept_${randomBytes(32).toString("base64url")}` })],
    ["the admin token with one character added", () => ({ token: `${h.adminToken}x` })],
    ["the admin token minus its last character", () => ({ token: h.adminToken.slice(0, -1) })],
    ["Basic scheme", () => ({ headers: { authorization: `Basic ${h.adminToken}` } })],
    ["no scheme", () => ({ headers: { authorization: h.adminToken } })],
    ["Bearer without a token", () => ({ headers: { authorization: "Bearer" } })],
    ["Bearer with an empty token", () => ({ headers: { authorization: "Bearer " } })],
    ["two tokens", () => ({ headers: { authorization: `Bearer ${h.adminToken} ${h.adminToken}` } })],
    ["a Bearer-less prefix", () => ({ headers: { authorization: `XBearer ${h.adminToken}` } })],
  ];
  it.each(unauthenticated)("answers 401 for %s and creates nothing", async (_label, options) => {
    const res = await refused("POST", "/v1/projects", { ...options(), json: valid }, 401, "unauthorized");
    expect(res.text).not.toContain(h.adminToken);
  });

  it("answers 403 for a CI token (deploy+read) and a read-only token", async () => {
    await refused("POST", "/v1/projects", { token: ciWeb.token, json: valid }, 403, "forbidden");
    await refused("POST", "/v1/projects", { token: readWeb.token, json: valid }, 403, "forbidden");
  });

  const invalid: Array<[string, Record<string, unknown>]> = [
    ["an uppercase name", { ...valid, name: "Shop" }],
    ["a name with '_'", { ...valid, name: "a_b" }],
    ["a name starting with '-'", { ...valid, name: "-x" }],
    ["a name ending with '-'", { ...valid, name: "x-" }],
    ["an empty name", { ...valid, name: "" }],
    ["a 41-character name", { ...valid, name: "a".repeat(41) }],
    ["a name that is a path", { ...valid, name: "../etc" }],
    ["a one-label domain", { ...valid, domain: "localhost" }],
    ["an uppercase domain", { ...valid, domain: "Preview.Test" }],
    ["a domain with an empty label", { ...valid, domain: "a..test" }],
    ["a domain with a label starting with '-'", { ...valid, domain: "-a.test" }],
    ["a domain with a port", { ...valid, domain: "a.test:80" }],
    ["port 0", { ...valid, port: 0 }],
    ["port 70000", { ...valid, port: 70000 }],
    ["a fractional port", { ...valid, port: 80.5 }],
    ["a port given as a string", { ...valid, port: "8080" }],
    ["a missing port", { name: valid.name, domain: valid.domain }],
    ["a relative healthcheck path", { ...valid, healthcheckPath: "health" }],
    ["a bad env variable name", { ...valid, env: { "1BAD": "x" } }],
    ["an unknown extra field", { ...valid, owner: "mallory" }],
  ];
  it.each(invalid)("answers 400 for %s and creates nothing", async (_label, json) => {
    await refused("POST", "/v1/projects", { json }, 400, "bad_request");
  });

  it("answers 400 for a body that is not JSON", async () => {
    await refused(
      "POST",
      "/v1/projects",
      { raw: '{"name": "never-made",', headers: { "content-type": "application/json" } },
      400,
      "bad_request",
    );
    await refused("POST", "/v1/projects", { json: ["never-made"] }, 400, "bad_request");
    await refused(
      "POST",
      "/v1/projects",
      { raw: "", headers: { "content-type": "application/json" } },
      400,
      "bad_request",
    );
  });

  it("answers 400 for a JSON body sent with the wrong content-type or none", async () => {
    const raw = JSON.stringify(valid);
    await refused(
      "POST",
      "/v1/projects",
      { raw, headers: { "content-type": "text/plain" } },
      400,
      "bad_request",
    );
    await refused(
      "POST",
      "/v1/projects",
      { raw, headers: { "content-type": "application/x-www-form-urlencoded" } },
      400,
      "bad_request",
    );
    await refused("POST", "/v1/projects", { raw: new TextEncoder().encode(raw) }, 400, "bad_request");
  });

  it("answers 413 for a body over the limit, declared or streamed", async () => {
    const big = JSON.stringify({ ...valid, env: { BIG: "x".repeat(h.bodyLimitBytes) } });
    expect(Buffer.byteLength(big)).toBeGreaterThan(h.bodyLimitBytes);
    // with a Content-Length header: refused before the body is read
    await refused(
      "POST",
      "/v1/projects",
      {
        raw: big,
        headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(big)) },
      },
      413,
      "payload_too_large",
    );
    // without one (chunked): refused while reading
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(big);
        for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.subarray(i, i + 1000));
        controller.close();
      },
    });
    await refused(
      "POST",
      "/v1/projects",
      { raw: stream, headers: { "content-type": "application/json" } },
      413,
      "payload_too_large",
    );
  });

  it("accepts a body just under the limit", async () => {
    const base = { name: "near-limit", domain: "near.test", port: 8080, env: { PAD: "" } };
    const pad = h.bodyLimitBytes - Buffer.byteLength(JSON.stringify(base));
    const res = await h.call("POST", "/v1/projects", { json: { ...base, env: { PAD: "x".repeat(pad) } } });
    expect(res.status, res.text).toBe(201);
  });
});

auditSecrets(fx);
