import { createHash, randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createDb } from "@edgeplane/db";
import { jobIds, QUEUES } from "@edgeplane/queue";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { ApiHarness, type CallOptions, type Reply, URLS } from "./support.ts";

// The HTTP API in-process (app.request) against a real Postgres database and a real BullMQ
// producer, both private to this file. Every refused request is checked to have changed nothing.
const h = new ApiHarness({ bodyLimitBytes: 4096 });

/** Plaintext tokens created here, with the index (in h.replies) of the only reply allowed to show them. */
const shownOnce = new Map<string, number>();

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

function expectError(res: Reply, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String), requestId: expect.any(String) } });
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
}

async function createProject(name: string, domain: string, port = 8080) {
  const res = await h.call("POST", "/v1/projects", { json: { name, domain, port } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; name: string };
}

async function createToken(name: string, projects: string[], scopes?: string[]) {
  const res = await h.call("POST", "/v1/tokens", { json: { name, projects, ...(scopes ? { scopes } : {}) } });
  expect(res.status, res.text).toBe(201);
  shownOnce.set(res.body.token, h.replies.length - 1);
  return { id: res.body.id as string, token: res.body.token as string };
}

async function deploy(token: string, project: string, environment: string, image: string) {
  const res = await h.call("POST", "/v1/deployments", { token, json: { project, environment, image } });
  expect(res.status, res.text).toBe(202);
  return res.body as { id: string; generation: number };
}

/** Calls the API and asserts the refusal left every row and every queue as it was. */
async function refused(method: string, path: string, options: CallOptions, status: number, code: string) {
  const before = await h.snapshot();
  const res = await h.call(method, path, options);
  expectError(res, status, code);
  expect(await h.snapshot()).toEqual(before);
  return res;
}

// Fixtures shared by every block: two projects and tokens with different grants.
let web: { id: string };
let ciWeb: { id: string; token: string };
let readWeb: { id: string; token: string };
let ciApi: { id: string; token: string };

beforeAll(async () => {
  await h.start();
  web = await createProject("web", "preview.test");
  await createProject("api", "api.preview.test");
  ciWeb = await createToken("ci-web", ["web"]);
  readWeb = await createToken("read-web", ["web"], ["read"]);
  ciApi = await createToken("ci-api", ["api"]);
});

afterAll(async () => {
  await h.stop();
});

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

describe("GET /v1/projects", () => {
  it("lists every project for the admin and only granted ones for a token", async () => {
    const all = await h.call("GET", "/v1/projects");
    expect(all.status).toBe(200);
    expect(all.body.projects.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["api", "web"]),
    );
    const mine = await h.call("GET", "/v1/projects", { token: ciWeb.token });
    expect(mine.status).toBe(200);
    expect(mine.body.projects.map((p: { name: string }) => p.name)).toEqual(["web"]);
  });

  it("shows a granted project and refuses another project's token", async () => {
    const res = await h.call("GET", "/v1/projects/web", { token: readWeb.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: web.id, name: "web", domain: "preview.test" });
    expectError(await h.call("GET", "/v1/projects/web", { token: ciApi.token }), 403, "forbidden");
    expectError(await h.call("GET", "/v1/projects/ghost"), 404, "not_found");
    expectError(await h.call("GET", "/v1/projects/Web"), 400, "bad_request");
  });
});

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

describe("GET /v1/tokens", () => {
  it("lists tokens without plaintext or hash", async () => {
    const res = await h.call("GET", "/v1/tokens");
    expect(res.status).toBe(200);
    const listed = res.body.tokens as Array<Record<string, unknown>>;
    expect(listed.map((t) => t.id)).toEqual(expect.arrayContaining([ciWeb.id, readWeb.id, ciApi.id]));
    for (const t of listed) {
      expect(Object.keys(t).sort()).toEqual(["createdAt", "id", "name", "projects", "revokedAt", "scopes"]);
    }
    expect(listed.find((t) => t.id === ciWeb.id)).toMatchObject({
      name: "ci-web",
      projects: ["web"],
      revokedAt: null,
    });
    for (const token of shownOnce.keys()) expect(res.text).not.toContain(token.slice(4));
    const hashes = await h.sql`select hash from api_tokens`;
    for (const { hash } of hashes) expect(res.text).not.toContain(hash);
  });

  it("is for the admin only", async () => {
    expectError(await h.call("GET", "/v1/tokens", { token: ciWeb.token }), 403, "forbidden");
    expectError(await h.call("GET", "/v1/tokens", { token: null }), 401, "unauthorized");
  });
});

describe("DELETE /v1/tokens/:id", () => {
  it("revokes a token: it gets 401 from then on", async () => {
    const doomed = await createToken("doomed", ["web"]);
    expect((await h.call("GET", "/v1/projects/web/environments", { token: doomed.token })).status).toBe(200);

    const res = await h.call("DELETE", `/v1/tokens/${doomed.id}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ id: doomed.id, name: "doomed", revokedAt: expect.any(String) });
    const [row] = await h.sql`select revoked_at from api_tokens where id = ${doomed.id}`;
    expect(row?.revoked_at).not.toBeNull();

    expectError(
      await h.call("GET", "/v1/projects/web/environments", { token: doomed.token }),
      401,
      "unauthorized",
    );
    await refused(
      "POST",
      "/v1/deployments",
      { token: doomed.token, json: { project: "web", environment: "pr-1", image: "ghcr.io/acme/web:1" } },
      401,
      "unauthorized",
    );
    const listed = await h.call("GET", "/v1/tokens");
    expect(listed.body.tokens.find((t: { id: string }) => t.id === doomed.id).revokedAt).toEqual(
      expect.any(String),
    );
  });

  it.each(["tok_XYZ", "123", "tok_", "TOK_00ff", "dep_00ff"])(
    "answers 400 for the malformed id %s",
    async (id) => {
      await refused("DELETE", `/v1/tokens/${id}`, {}, 400, "bad_request");
    },
  );

  it("answers 404 for an unknown id", async () => {
    await refused("DELETE", "/v1/tokens/tok_00000000000000000000", {}, 404, "not_found");
  });

  it("answers 401 without a token and 403 for a project token revoking another", async () => {
    await refused("DELETE", `/v1/tokens/${ciApi.id}`, { token: null }, 401, "unauthorized");
    await refused("DELETE", `/v1/tokens/${ciApi.id}`, { token: ciWeb.token }, 403, "forbidden");
    const [row] = await h.sql`select revoked_at from api_tokens where id = ${ciApi.id}`;
    expect(row?.revoked_at).toBeNull();
  });
});

describe("POST /v1/deployments", () => {
  const image = "ghcr.io/acme/web:sha-1";
  const body = { project: "web", environment: "pr-1908", image };
  let first: { id: string; environmentId: string };

  it("records the intent and enqueues one signed stage job: 202", async () => {
    const jobsBefore = await h.allJobCounts();
    const res = await h.call("POST", "/v1/deployments", { token: ciWeb.token, json: body });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^dep_[0-9a-f]+$/),
      project: "web",
      environment: "pr-1908",
      status: "queued",
      url: "http://pr-1908.preview.test:8080",
      image,
      generation: 1,
      digest: null,
      error: null,
    });
    expect(res.body.phases.queued).toEqual(expect.any(String));
    const id: string = res.body.id;
    expect(res.headers.get("location")).toBe(`/v1/deployments/${id}`);

    // committed rows
    const [env] = await h.sql`select * from environments where project_id = ${web.id} and name = 'pr-1908'`;
    expect(env).toMatchObject({
      hostname: "pr-1908.preview.test",
      kind: "preview",
      status: "deploying",
      generation: 1,
      desired_image: image,
      current_deployment_id: id,
    });
    const [dep] = await h.sql`select * from deployments where id = ${id}`;
    expect(dep).toMatchObject({
      project_id: web.id,
      environment_id: env?.id,
      generation: 1,
      image,
      status: "queued",
      requested_by: ciWeb.id,
    });
    const events = await h.sql`select phase from deployment_events where deployment_id = ${id} order by id`;
    expect(events.map((e) => e.phase)).toEqual(["queued"]);

    // exactly one signed job, naming this deployment and nothing secret
    expect(await h.allJobCounts()).toEqual({
      ...jobsBefore,
      [QUEUES.stage]: (jobsBefore[QUEUES.stage] ?? 0) + 1,
    });
    const job = await h.queue(QUEUES.stage).getJob(jobIds.stage(id));
    expect(job).toBeDefined();
    expect(Object.keys(job?.data ?? {}).sort()).toEqual(["envelope", "signature"]);
    expect(JSON.parse(job?.data.envelope)).toMatchObject({
      deploymentId: id,
      environmentId: env?.id,
      projectId: web.id,
    });
    expect(h.verify(job?.data)).toMatchObject({
      deploymentId: id,
      environmentId: env?.id,
      projectId: web.id,
      generation: 1,
      image,
    });
    const tampered = {
      ...job?.data,
      envelope: job?.data.envelope.replace('"generation":1', '"generation":2'),
    };
    expect(() => h.verify(tampered)).toThrow();
    expect(JSON.stringify(job?.data)).not.toContain(ciWeb.token.slice(4));
    expect(JSON.stringify(job?.data)).not.toContain(h.adminToken);

    first = { id, environmentId: env?.id };
  });

  it("a second deploy to the same environment is generation 2 and supersedes the first", async () => {
    const jobsBefore = await h.allJobCounts();
    const res = await h.call("POST", "/v1/deployments", {
      token: ciWeb.token,
      json: { ...body, image: "ghcr.io/acme/web:sha-2" },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      status: "queued",
      generation: 2,
      url: "http://pr-1908.preview.test:8080",
    });
    expect(res.body.id).not.toBe(first.id);

    const [old] = await h.sql`select status, superseded_at from deployments where id = ${first.id}`;
    expect(old?.status).toBe("superseded");
    expect(old?.superseded_at).not.toBeNull();
    const [env] =
      await h.sql`select id, generation, current_deployment_id, desired_image from environments where name = 'pr-1908'`;
    expect(env).toMatchObject({
      id: first.environmentId,
      generation: 2,
      current_deployment_id: res.body.id,
      desired_image: "ghcr.io/acme/web:sha-2",
    });
    expect(await h.count("environments")).toBeGreaterThan(0);
    expect(await h.allJobCounts()).toEqual({
      ...jobsBefore,
      [QUEUES.stage]: (jobsBefore[QUEUES.stage] ?? 0) + 1,
    });
    const job = await h.queue(QUEUES.stage).getJob(jobIds.stage(res.body.id));
    expect(h.verify(job?.data)).toMatchObject({ deploymentId: res.body.id, generation: 2 });

    const shown = await h.call("GET", `/v1/deployments/${first.id}`, { token: ciWeb.token });
    expect(shown.body.status).toBe("superseded");
    expect(shown.body.phases.superseded).toEqual(expect.any(String));
    expect(shown.body.events.map((e: { phase: string }) => e.phase)).toEqual(["queued", "superseded"]);
  });

  it("lets the admin deploy, with a fixed environment and no requester token", async () => {
    const res = await h.call("POST", "/v1/deployments", {
      json: {
        project: "api",
        environment: "staging",
        image: `registry.local:5000/acme/api@sha256:${"a".repeat(64)}`,
      },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ url: "http://staging.api.preview.test:8080", generation: 1 });
    const [row] =
      await h.sql`select e.kind, d.requested_by from deployments d join environments e on e.id = d.environment_id where d.id = ${res.body.id}`;
    expect(row).toMatchObject({ kind: "fixed", requested_by: null });
  });

  it.each(["PR_1", "a.b", "-x", "x-", "x".repeat(49), "../etc", "", "pr 1", "ünïcode"])(
    "answers 400 for the environment name %j and changes nothing",
    async (environment) => {
      await refused(
        "POST",
        "/v1/deployments",
        { token: ciWeb.token, json: { ...body, environment } },
        400,
        "bad_request",
      );
    },
  );

  it("accepts a 48-character environment name", async () => {
    await deploy(ciWeb.token, "web", "x".repeat(48), image);
  });

  it.each([
    "ghcr.io/acme/web",
    "UPPER/case:1",
    "a:b c",
    "x@sha256:zz",
    "",
    "ghcr.io/acme/web:",
    "ghcr.io/acme/web:tag;rm -rf /",
    `ghcr.io/acme/web:${"t".repeat(129)}`,
  ])("answers 400 for the image reference %j and changes nothing", async (ref) => {
    await refused(
      "POST",
      "/v1/deployments",
      { token: ciWeb.token, json: { ...body, image: ref } },
      400,
      "bad_request",
    );
  });

  const malformed: Array<[string, CallOptions]> = [
    ["a missing image", { json: { project: "web", environment: "pr-2" } }],
    ["an unknown extra field", { json: { ...body, generation: 99 } }],
    ["an invalid project name", { json: { ...body, project: "Web" } }],
    ["a body that is not JSON", { raw: "project=web", headers: { "content-type": "application/json" } }],
    ["the wrong content-type", { raw: JSON.stringify(body), headers: { "content-type": "text/plain" } }],
  ];
  it.each(malformed)("answers 400 for %s and changes nothing", async (_label, options) => {
    await refused("POST", "/v1/deployments", { token: ciWeb.token, ...options }, 400, "bad_request");
  });

  it("answers 404 for an unknown project and changes nothing", async () => {
    await refused("POST", "/v1/deployments", { json: { ...body, project: "ghost" } }, 404, "not_found");
  });

  it("answers 401 without a token or with a wrong one, and changes nothing", async () => {
    await refused("POST", "/v1/deployments", { token: null, json: body }, 401, "unauthorized");
    await refused(
      "POST",
      "/v1/deployments",
      { token: `ept_${randomBytes(32).toString("base64url")}`, json: body },
      401,
      "unauthorized",
    );
  });

  it("answers 403 for another project's token and for a read-only token, and changes nothing", async () => {
    await refused("POST", "/v1/deployments", { token: ciApi.token, json: body }, 403, "forbidden");
    await refused(
      "POST",
      "/v1/deployments",
      { token: ciApi.token, json: { ...body, environment: "pr-new" } },
      403,
      "forbidden",
    );
    await refused("POST", "/v1/deployments", { token: readWeb.token, json: body }, 403, "forbidden");
  });

  it("answers 409 when another project on the same domain owns the hostname, and changes nothing", async () => {
    await createProject("web-mirror", "preview.test");
    await deploy(ciWeb.token, "web", "pr-77", image);
    const res = await refused(
      "POST",
      "/v1/deployments",
      { json: { project: "web-mirror", environment: "pr-77", image } },
      409,
      "conflict",
    );
    expect(res.body.error.message).toContain("pr-77.preview.test");
    // a free hostname on the same domain is fine
    await deploy(h.adminToken, "web-mirror", "pr-78", image);
  });
});

describe("GET /v1/deployments/:id", () => {
  let deployment: { id: string };

  beforeAll(async () => {
    deployment = await deploy(ciWeb.token, "web", "pr-300", "ghcr.io/acme/web:v3");
  });

  it("shows the deployment with its phases and events: 200", async () => {
    for (const token of [ciWeb.token, readWeb.token, h.adminToken]) {
      const res = await h.call("GET", `/v1/deployments/${deployment.id}`, { token });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({
        id: deployment.id,
        project: "web",
        environment: "pr-300",
        url: "http://pr-300.preview.test:8080",
        image: "ghcr.io/acme/web:v3",
        status: "queued",
        generation: 1,
        phases: {
          queued: expect.any(String),
          staging: null,
          starting: null,
          routing: null,
          ready: null,
          failed: null,
          superseded: null,
        },
        events: [{ phase: "queued", message: null, at: expect.any(String) }],
      });
    }
  });

  it("answers 404 for an unknown id", async () => {
    expectError(
      await h.call("GET", "/v1/deployments/dep_00000000000000000000", { token: ciWeb.token }),
      404,
      "not_found",
    );
  });

  it.each(["nope", "dep_XYZ", "DEP_00ff", "dep_", "env_00ff"])(
    "answers 400 for the malformed id %s",
    async (id) => {
      expectError(await h.call("GET", `/v1/deployments/${id}`, { token: ciWeb.token }), 400, "bad_request");
    },
  );

  it("answers 403 for another project's token and 401 without a token", async () => {
    const res = await h.call("GET", `/v1/deployments/${deployment.id}`, { token: ciApi.token });
    expectError(res, 403, "forbidden");
    expect(res.text).not.toContain("ghcr.io/acme/web:v3");
    expectError(
      await h.call("GET", `/v1/deployments/${deployment.id}`, { token: null }),
      401,
      "unauthorized",
    );
  });
});

describe("GET /v1/projects/:project/environments[/:environment]", () => {
  let environmentId = "";

  beforeAll(async () => {
    await deploy(ciWeb.token, "web", "staging", "ghcr.io/acme/web:v1");
    const [row] = await h.sql`select id from environments where project_id = ${web.id} and name = 'staging'`;
    environmentId = row?.id;
  });

  it("lists the project's environments, sorted by name: 200", async () => {
    const res = await h.call("GET", "/v1/projects/web/environments", { token: readWeb.token });
    expect(res.status).toBe(200);
    const names = res.body.environments.map((e: { name: string }) => e.name);
    expect(names).toContain("staging");
    expect(names).toEqual([...names].sort());
    expect(res.body.environments.every((e: { project: string }) => e.project === "web")).toBe(true);
    expect(res.body.environments.find((e: { name: string }) => e.name === "staging")).toMatchObject({
      id: environmentId,
      kind: "fixed",
      status: "deploying",
      hostname: "staging.preview.test",
      url: "http://staging.preview.test:8080",
      image: "ghcr.io/acme/web:v1",
    });
  });

  it("shows one environment: 200", async () => {
    const res = await h.call("GET", "/v1/projects/web/environments/staging", { token: ciWeb.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: environmentId, project: "web", name: "staging", generation: 1 });
  });

  it("answers 404 for an unknown project or environment", async () => {
    expectError(await h.call("GET", "/v1/projects/ghost/environments"), 404, "not_found");
    expectError(await h.call("GET", "/v1/projects/ghost/environments/staging"), 404, "not_found");
    expectError(
      await h.call("GET", "/v1/projects/web/environments/pr-999999", { token: ciWeb.token }),
      404,
      "not_found",
    );
  });

  it("answers 400 for a bad environment or project name", async () => {
    expectError(
      await h.call("GET", "/v1/projects/web/environments/PR_1", { token: ciWeb.token }),
      400,
      "bad_request",
    );
    expectError(
      await h.call("GET", "/v1/projects/web/environments/a.b", { token: ciWeb.token }),
      400,
      "bad_request",
    );
    expectError(await h.call("GET", `/v1/projects/web/environments/${"x".repeat(49)}`), 400, "bad_request");
    expectError(await h.call("GET", "/v1/projects/Web/environments"), 400, "bad_request");
  });

  it("answers 403 for another project's token and 401 without a token", async () => {
    const list = await h.call("GET", "/v1/projects/web/environments", { token: ciApi.token });
    expectError(list, 403, "forbidden");
    expect(list.text).not.toContain("staging");
    expectError(
      await h.call("GET", "/v1/projects/web/environments/staging", { token: ciApi.token }),
      403,
      "forbidden",
    );
    expectError(await h.call("GET", "/v1/projects/web/environments", { token: null }), 401, "unauthorized");
  });
});

describe("DELETE /v1/projects/:project/environments/:environment", () => {
  let doomed: { id: string; environmentId: string };

  beforeAll(async () => {
    const dep = await deploy(ciWeb.token, "web", "pr-500", "ghcr.io/acme/web:v5");
    await deploy(ciWeb.token, "web", "pr-501", "ghcr.io/acme/web:v5");
    const [row] = await h.sql`select id from environments where project_id = ${web.id} and name = 'pr-500'`;
    doomed = { id: dep.id, environmentId: row?.id };
  });

  it("marks the environment destroying, bumps its generation and enqueues one teardown: 202", async () => {
    const jobsBefore = await h.allJobCounts();
    const res = await h.call("DELETE", "/v1/projects/web/environments/pr-500", { token: ciWeb.token });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      id: doomed.environmentId,
      name: "pr-500",
      status: "destroying",
      generation: 2,
      image: null,
      deploymentId: null,
    });

    const [env] = await h.sql`select * from environments where id = ${doomed.environmentId}`;
    expect(env).toMatchObject({
      status: "destroying",
      generation: 2,
      desired_image: null,
      current_deployment_id: null,
    });
    const [dep] = await h.sql`select status from deployments where id = ${doomed.id}`;
    expect(dep?.status).toBe("superseded");

    // the janitor's teardown removes containers and route; nothing else is enqueued
    expect(await h.allJobCounts()).toEqual({
      ...jobsBefore,
      [QUEUES.teardown]: (jobsBefore[QUEUES.teardown] ?? 0) + 1,
    });
    const job = await h.queue(QUEUES.teardown).getJob(jobIds.teardown(doomed.environmentId, 2));
    expect(job).toBeDefined();
    expect(h.verify(job?.data)).toMatchObject({
      deploymentId: null,
      environmentId: doomed.environmentId,
      projectId: web.id,
      generation: 2,
      image: null,
    });
  });

  it("a second DELETE is 202 and enqueues nothing new", async () => {
    const before = await h.snapshot();
    const res = await h.call("DELETE", "/v1/projects/web/environments/pr-500", { token: ciWeb.token });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ status: "destroying", generation: 2 });
    expect(await h.snapshot()).toEqual(before);
  });

  it("answers 404 for an unknown environment or project and changes nothing", async () => {
    await refused(
      "DELETE",
      "/v1/projects/web/environments/pr-999999",
      { token: ciWeb.token },
      404,
      "not_found",
    );
    await refused("DELETE", "/v1/projects/ghost/environments/pr-501", {}, 404, "not_found");
  });

  it("answers 400 for a bad environment name and changes nothing", async () => {
    await refused(
      "DELETE",
      "/v1/projects/web/environments/PR_501",
      { token: ciWeb.token },
      400,
      "bad_request",
    );
  });

  it("answers 403 for a read-only token or another project's token, 401 without one, and changes nothing", async () => {
    const path = "/v1/projects/web/environments/pr-501";
    await refused("DELETE", path, { token: readWeb.token }, 403, "forbidden");
    await refused("DELETE", path, { token: ciApi.token }, 403, "forbidden");
    await refused("DELETE", path, { token: null }, 401, "unauthorized");
    const [env] =
      await h.sql`select status from environments where project_id = ${web.id} and name = 'pr-501'`;
    expect(env?.status).toBe("deploying");
  });
});

// Runs last: every reply this file received, checked for secrets.
describe("secrets in responses", () => {
  it("never shows the admin token, and shows each created token only in its creation reply", () => {
    expect(h.replies.length).toBeGreaterThan(100);
    expect(shownOnce.size).toBeGreaterThanOrEqual(6);
    for (const [i, reply] of h.replies.entries()) {
      expect(reply.text, `${reply.method} ${reply.path}`).not.toContain(h.adminToken);
      for (const [token, shownAt] of shownOnce) {
        if (i !== shownAt) expect(reply.text, `${reply.method} ${reply.path}`).not.toContain(token.slice(4));
      }
    }
  });
});
