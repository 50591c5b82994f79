import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createDb } from "@edgeplane/db";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { URLS } from "../support.ts";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

// Routes outside the contract: health probes and the answer for a route that does not exist.
const fx = routeFixtures();
const { h } = fx;

describe("GET /healthz, /readyz and unknown routes", () => {
  it("answers /healthz and /readyz without a token", async () => {
    const health = await h.call("GET", "/healthz", { token: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true });
    const ready = await h.call("GET", "/readyz", { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ok: true });
  });

  it("answers an unknown route with 404 and the error body", async () => {
    expectError(await h.call("GET", "/nope", { token: null }), 404, "not_found");
    expectError(await h.call("POST", "/v1/nope", { json: {} }), 404, "not_found");
  });

  it("asks for a token before revealing whether a /v1 route exists", async () => {
    expectError(await h.call("GET", "/v1/nope", { token: null }), 401, "unauthorized");
  });

  it("gives every request its own request id", async () => {
    const a = await h.call("GET", "/nope", { token: null });
    const b = await h.call("GET", "/nope", { token: null });
    expect(a.body.error.requestId).not.toBe(b.body.error.requestId);
  });

  it("answers 503 unavailable, not 500, when Postgres is unreachable, and logs no query parameters", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const down = createDb("postgres://postgres@127.0.0.1:1/edgeplane_unreachable", { max: 1 });
    try {
      const app = createApp({
        services: { db: down.db, producer: h.producer, urls: URLS },
        adminToken: h.adminToken,
        log: pino({ level: "info" }, sink),
        bodyLimitBytes: 4096,
        checkReady: async () => {},
      });
      const auth = { authorization: `Bearer ${h.adminToken}` };
      const read = await app.request("/v1/projects/web/environments", { headers: auth });
      expect(read.status).toBe(503);
      expect(((await read.json()) as { error: { code: string } }).error.code).toBe("unavailable");

      const secretValue = `s3cret-${randomBytes(8).toString("hex")}`;
      const write = await app.request("/v1/projects", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "down", domain: "down.test", port: 80, env: { API_KEY: secretValue } }),
      });
      expect(write.status).toBe(503);
      expect(await write.text()).not.toContain(secretValue);
      expect(lines.some((line) => line.includes("dependency unavailable"))).toBe(true);
      expect(lines.join("")).not.toContain(secretValue);
    } finally {
      await down.close();
    }
  });
});

auditSecrets(fx);
