import { createProjectInput, requestDeploymentInput } from "@edgeplane/services";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiHarness, type Reply } from "./support.ts";

// Property-based: hostile names, image references and headers thrown at the real API (real
// Postgres, real queues). Whatever comes in, the answer is the API's error body with a 4xx, and a
// refused request leaves every row and every queue exactly as it was.
const h = new ApiHarness({ bodyLimitBytes: 4096 });
let ci = "";

const RUNS = 60;

const hostileString = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "../../etc/passwd",
    "pr-1; rm -rf /",
    "pr-1\nserver { listen 80; }",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile literal, on purpose
    "${jndi:ldap://x}",
    "$(id)",
    "pr-1 ",
    "PR-1",
    "-pr-1",
    "pr-1-",
    "pr_1",
    "pr-1.evil",
    "a".repeat(49),
    "é",
    "\u0000",
    "<script>alert(1)</script>",
    "pr-1}",
    "'; drop table environments; --",
  ),
);
const hostileImage = fc.oneof(
  hostileString,
  fc.constantFrom(
    "127.0.0.1:5001/acme/web",
    "ACME/web:1",
    "acme/web:tag with space",
    "acme/web@sha256:zz",
    `acme/web:${"t".repeat(129)}`,
    "reg istry/x:1",
    "127.0.0.1:5001/acme/web:sha-1\n",
    "$(rm -rf /)/x:1",
    "evil.test/../x:1",
    "acme//web:1",
    ":1",
    "@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    `${"a/".repeat(200)}x:1`,
  ),
);
const json = fc.jsonValue({ maxDepth: 2 });
/** Header values a client can actually send: visible ASCII and spaces. */
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,80}$/);

function expectRefused(res: Reply, statuses: number[]) {
  expect(statuses, `${res.status} ${res.text}`).toContain(res.status);
  expect(res.body).toEqual({
    error: { code: expect.any(String), message: expect.any(String), requestId: expect.any(String) },
  });
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

async function webhookDeliveries(): Promise<number> {
  const [row] = await h.sql`select count(*)::int as n from webhook_deliveries`;
  return row?.n ?? 0;
}

beforeAll(async () => {
  await h.start();
  const project = await h.call("POST", "/v1/projects", {
    json: {
      name: "web",
      domain: "preview.test",
      port: 8080,
      repository: "acme/web",
      webhookSecret: "a-webhook-secret-of-ours",
    },
  });
  expect(project.status, project.text).toBe(201);
  ci = (await h.call("POST", "/v1/tokens", { json: { name: "ci-web", projects: ["web"] } })).body.token;
});

afterAll(async () => {
  await h.stop();
});

describe("hostile input, property-based", () => {
  it("POST /v1/deployments: anything the schema refuses is a 400 that changes nothing; the rest is 202 or 404", async () => {
    const body = fc.oneof(
      fc.record({
        project: fc.oneof(fc.constant("web"), hostileString),
        environment: hostileString,
        image: hostileImage,
      }),
      fc.record({ project: fc.constant("web"), environment: fc.constant("pr-1"), image: hostileImage }),
      fc.record({
        project: fc.constant("web"),
        environment: hostileString,
        image: fc.constant("127.0.0.1:5001/acme/web:sha-1"),
      }),
      json,
    );
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const before = await h.snapshot();
        const res = await h.call("POST", "/v1/deployments", { token: ci, json: input });
        const parsed = requestDeploymentInput.safeParse(input);
        if (!parsed.success) {
          expectRefused(res, [400]);
          expect(await h.snapshot()).toEqual(before);
        } else if (parsed.data.project !== "web") {
          expectRefused(res, [403, 404]);
          expect(await h.snapshot()).toEqual(before);
        } else {
          expect(res.status, res.text).toBe(202);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("POST /v1/projects: hostile names, domains, paths and env keys are a 400 that changes nothing", async () => {
    const body = fc.record(
      {
        name: hostileString,
        domain: fc.oneof(
          hostileString,
          fc.constantFrom("preview.test", "x.y", "PREVIEW.TEST", "a..b", "*.test", "a.test."),
        ),
        port: fc.oneof(fc.integer(), fc.constant("8080"), fc.double()),
        healthcheckPath: fc.oneof(hostileString, fc.constantFrom("/ok", "healthz", "/a b", "/$(id)", "/\n")),
        env: fc.dictionary(hostileString, fc.string({ maxLength: 20 }), { maxKeys: 3 }),
      },
      { requiredKeys: ["name", "domain", "port"] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        if (createProjectInput.safeParse(input).success) return; // the rare valid one: not this property's business
        const before = await h.snapshot();
        const res = await h.call("POST", "/v1/projects", { json: input });
        expectRefused(res, [400]);
        expect(await h.snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it("hostile Authorization and Content-Type headers: 401 or 400, never anything else, nothing changed", async () => {
    const request = fc.record({
      authorization: fc.option(
        fc.oneof(
          headerValue,
          headerValue.map((v) => `Bearer ${v}`),
          headerValue.map((v) => `Basic ${v}`),
        ),
      ),
      contentType: fc.option(headerValue),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ authorization, contentType }) => {
        const before = await h.snapshot();
        const headers: Record<string, string> = {};
        if (authorization !== null) headers.authorization = authorization;
        if (contentType !== null) headers["content-type"] = contentType;
        const res = await h.call("POST", "/v1/deployments", {
          token: null,
          headers,
          raw: JSON.stringify({
            project: "web",
            environment: "pr-2",
            image: "127.0.0.1:5001/acme/web:sha-1",
          }),
        });
        expectRefused(res, [400, 401]);
        expect(await h.snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it("POST /webhooks/github with hostile headers and bodies: a 4xx, no delivery recorded, nothing changed", async () => {
    const delivery = fc.record({
      event: fc.option(fc.oneof(headerValue, fc.constantFrom("pull_request", "ping", "push"))),
      id: fc.option(fc.oneof(headerValue, fc.uuid())),
      signature: fc.option(fc.oneof(headerValue, fc.stringMatching(/^sha256=[0-9a-f]{64}$/))),
      body: fc.oneof(
        fc.string({ maxLength: 200 }),
        json.map((v) => JSON.stringify(v)),
        fc.record({ action: hostileString, number: fc.integer() }).map((p) =>
          JSON.stringify({
            ...p,
            repository: { full_name: "acme/web" },
            pull_request: { head: { sha: "0".repeat(40) } },
          }),
        ),
      ),
    });
    await fc.assert(
      fc.asyncProperty(delivery, async ({ event, id, signature, body }) => {
        const before = await h.snapshot();
        const deliveries = await webhookDeliveries();
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (event !== null) headers["x-github-event"] = event;
        if (id !== null) headers["x-github-delivery"] = id;
        if (signature !== null) headers["x-hub-signature-256"] = signature;
        const res = await h.call("POST", "/webhooks/github", { token: null, headers, raw: body });
        expectRefused(res, [400, 401, 404, 413]);
        expect(await h.snapshot()).toEqual(before);
        expect(await webhookDeliveries()).toBe(deliveries);
      }),
      { numRuns: RUNS },
    );
  });

  it("hostile path parameters on reads and deletes: a 4xx with the error body, nothing changed", async () => {
    const segment = hostileString
      .map((s) => encodeURIComponent(s))
      .filter((s) => s.length > 0 && s !== "." && s !== "..");
    await fc.assert(
      fc.asyncProperty(segment, segment, async (project, environment) => {
        const before = await h.snapshot();
        const read = await h.call("GET", `/v1/projects/${project}/environments/${environment}`, {
          token: ci,
        });
        const destroyed = await h.call("DELETE", `/v1/projects/${project}/environments/${environment}`, {
          token: ci,
        });
        const deployment = await h.call("GET", `/v1/deployments/${environment}`, { token: ci });
        for (const res of [read, destroyed, deployment]) expectRefused(res, [400, 403, 404]);
        expect(await h.snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });
});
