import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { createDb } from "@edgeplane/db";
import { bestEffortProducer, createProducer, createRedis, createSigner } from "@edgeplane/queue";
import { serve } from "@hono/node-server";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import type { ApiDeps } from "../src/context.ts";
import { redisRateLimiter } from "../src/rate-limit.ts";
import { ApiHarness, URLS } from "./support.ts";

// Rate limits (Redis-backed, shared by every API process) and an API that keeps answering when
// Redis is away, against real Postgres and Redis.
const h = new ApiHarness();
let database: ReturnType<typeof createDb>;
const lines: string[] = [];
const log = pino(
  { level: "info" },
  new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  }),
);
// a day-long window: the test never straddles two windows
const WINDOW_MS = 24 * 3600 * 1000;

function app(overrides: Partial<ApiDeps> = {}, redis = h.redis) {
  return createApp({
    services: { db: database.db, producer: h.producer, urls: URLS },
    adminToken: h.adminToken,
    log,
    bodyLimitBytes: 4096,
    checkReady: async () => {},
    rateLimits: {
      limiter: redisRateLimiter({ redis, prefix: h.prefix, windowMs: WINDOW_MS, log }),
      deploys: 3,
      webhooks: 2,
    },
    ...overrides,
  });
}

async function call(target: ReturnType<typeof createApp>, token: string, environment: string) {
  const res = await target.request("/v1/deployments", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ project: "web", environment, image: "127.0.0.1:5001/acme/web:sha-1" }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

let ciA = "";
let ciB = "";

beforeAll(async () => {
  await h.start();
  database = createDb(h.databaseUrl, { max: 4 });
  expect(
    (await h.call("POST", "/v1/projects", { json: { name: "web", domain: "preview.test", port: 8080 } }))
      .status,
  ).toBe(201);
  ciA = (await h.call("POST", "/v1/tokens", { json: { name: "ci-a", projects: ["web"] } })).body.token;
  ciB = (await h.call("POST", "/v1/tokens", { json: { name: "ci-b", projects: ["web"] } })).body.token;
});

afterAll(async () => {
  await database?.close();
  await h.stop();
});

describe("rate limits", () => {
  it("POST /v1/deployments: past the limit a token gets 429 with Retry-After, counted across API processes, and nothing is stored", async () => {
    const one = app();
    const two = app(); // a second API process on the same Redis
    expect((await call(one, ciA, "pr-1")).status).toBe(202);
    expect((await call(two, ciA, "pr-2")).status).toBe(202);
    expect((await call(one, ciA, "pr-3")).status).toBe(202);

    const before = await h.snapshot();
    const limited = await call(two, ciA, "pr-4");
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      error: {
        code: "rate_limited",
        message: expect.stringMatching(/more than 3 deploy/),
        requestId: expect.any(String),
      },
    });
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(await h.snapshot()).toEqual(before);

    // another token has its own budget; reads are not limited
    expect((await call(one, ciB, "pr-5")).status).toBe(202);
    const read = await one.request("/v1/projects/web/environments", {
      headers: { authorization: `Bearer ${ciA}` },
    });
    expect(read.status).toBe(200);
  });

  it("POST /webhooks/github: past the limit a source address gets 429 before the body is looked at", async () => {
    const server = serve({ fetch: app().fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/github`;
      const post = () =>
        fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await post()).status);
      expect(statuses).toEqual([400, 400, 429]);
      const limited = await post();
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a limit of 0 turns it off", async () => {
    const unlimited = app({
      rateLimits: {
        limiter: redisRateLimiter({ redis: h.redis, prefix: h.prefix, windowMs: WINDOW_MS, log }),
        deploys: 0,
        webhooks: 0,
      },
    });
    for (let i = 0; i < 5; i++) expect((await call(unlimited, ciA, `pr-${10 + i}`)).status).toBe(202);
  });
});

describe("Redis unavailable", () => {
  it("a deploy is still 202 once committed: the failed enqueue is logged, the intent stored for the resync", async () => {
    const dead = createRedis("redis://127.0.0.1:1", { failFast: true });
    dead.on("error", () => {});
    const producer = bestEffortProducer(
      createProducer({ connection: dead, prefix: h.prefix, signer: createSigner(h.signingKey.privateKey) }),
      { log, timeoutMs: 1000 },
    );
    try {
      const target = app({ services: { db: database.db, producer, urls: URLS } }, dead);
      // Redis never comes back here (nothing listens on port 1): an answer at all, within the test's
      // deadline, is an answer that did not wait for Redis
      const res = await call(target, ciB, "pr-redis-down");
      expect(res.status).toBe(202);
      expect(dead.status).not.toBe("ready");
      const [row] = await h.sql`select status, generation from deployments where id = ${res.body.id}`;
      expect(row).toMatchObject({ status: "queued", generation: 1 });
      expect(
        lines.some((l) => l.includes("enqueue failed after commit") && l.includes(`stage-${res.body.id}`)),
      ).toBe(true);
      expect(lines.some((l) => l.includes("rate limit not checked: Redis unavailable"))).toBe(true);

      // readiness says so: 503 unavailable, not a 500
      const probe = app({ checkReady: async () => void (await dead.ping()) }, dead);
      const ready = await probe.request("/readyz");
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    } finally {
      dead.disconnect();
    }
  });
});
