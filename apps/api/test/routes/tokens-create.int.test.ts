import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, shownOnce, web, ciWeb, readWeb, createToken, refused } = fx;

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

describe("POST /v1/tokens", () => {
  it("returns an ept_ token once and stores only its sha256", async () => {
    const before = await h.count("api_tokens");
    const res = await h.call("POST", "/v1/tokens", { json: { name: "ci-shop", projects: ["web", "web"] } });
    expect(res.status, res.text).toBe(201);
    shownOnce.set(res.body.token, h.replies.length - 1);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^tok_[0-9a-f]+$/),
      name: "ci-shop",
      token: expect.stringMatching(/^ept_[A-Za-z0-9_-]{43}$/),
      scopes: ["deploy", "read"],
      projects: ["web"],
      createdAt: expect.any(String),
    });
    expect(await h.count("api_tokens")).toBe(before + 1);

    const token: string = res.body.token;
    const rows = await h.sql`select * from api_tokens where id = ${res.body.id}`;
    expect(rows).toHaveLength(1);
    const row = { ...rows[0] };
    expect(row).toMatchObject({
      name: "ci-shop",
      hash: sha256(token),
      scopes: ["deploy", "read"],
      project_ids: [web.id],
    });
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(token.slice("ept_".length));
    const anywhere =
      await h.sql`select count(*)::int as n from api_tokens t where t::text like ${`%${token.slice(4)}%`}`;
    expect(anywhere[0]?.n).toBe(0);

    // the token works, within its grant
    expect((await h.call("GET", "/v1/projects/web/environments", { token })).status).toBe(200);
    expectError(await h.call("GET", "/v1/projects/api/environments", { token }), 403, "forbidden");
  });

  it("stores the requested scopes", async () => {
    const res = await h.call("POST", "/v1/tokens", {
      json: { name: "reader", projects: ["api"], scopes: ["read"] },
    });
    expect(res.status).toBe(201);
    shownOnce.set(res.body.token, h.replies.length - 1);
    expect(res.body).toMatchObject({ scopes: ["read"], projects: ["api"] });
  });

  it("answers 400 for unknown project names and stores nothing", async () => {
    const res = await refused(
      "POST",
      "/v1/tokens",
      { json: { name: "ghostly", projects: ["web", "ghost"] } },
      400,
      "bad_request",
    );
    expect(res.body.error.message).toContain("ghost");
  });

  const invalid: Array<[string, Record<string, unknown>]> = [
    ["an uppercase name", { name: "CI" }],
    ["a name with '_'", { name: "ci_web" }],
    ["an invalid project name", { name: "x-token", projects: ["Web"] }],
    ["an unknown scope", { name: "x-token", scopes: ["root"] }],
    ["no scopes", { name: "x-token", scopes: [] }],
    ["an unknown extra field", { name: "x-token", hash: "0".repeat(64) }],
    ["a caller-chosen token", { name: "x-token", token: "ept_chosen" }],
  ];
  it.each(invalid)("answers 400 for %s", async (_label, json) => {
    await refused("POST", "/v1/tokens", { json }, 400, "bad_request");
  });

  it("answers 409 for a duplicate name and keeps the first token working", async () => {
    const first = await createToken("dup-token", ["web"]);
    const [before] = await h.sql`select hash from api_tokens where id = ${first.id}`;
    await refused("POST", "/v1/tokens", { json: { name: "dup-token", projects: ["api"] } }, 409, "conflict");
    const [after] = await h.sql`select hash from api_tokens where id = ${first.id}`;
    expect(after?.hash).toBe(before?.hash);
    expect((await h.call("GET", "/v1/projects/web/environments", { token: first.token })).status).toBe(200);
  });

  it("answers 401 without a token and 403 for a project token asking for more", async () => {
    const json = { name: "escalate", projects: ["web", "api"], scopes: ["admin"] };
    await refused("POST", "/v1/tokens", { token: null, json }, 401, "unauthorized");
    await refused("POST", "/v1/tokens", { token: ciWeb.token, json }, 403, "forbidden");
    await refused("POST", "/v1/tokens", { token: readWeb.token, json }, 403, "forbidden");
  });
});

auditSecrets(fx);
