import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractDocument, exampleBody, fillPath, operationsOf } from "./routes/operations.ts";
import { ApiHarness } from "./support.ts";

// The API as its own contract: the document at /v1/openapi.json is valid OpenAPI, every operation it
// lists is one the router serves, every route the app serves under /v1 is in it, and /docs renders
// it from files served here (no CDN, nothing fetched from elsewhere).
const h = new ApiHarness();
const { app, document } = await contractDocument();
const operations = operationsOf(document);

beforeAll(async () => {
  await h.start();
});

afterAll(async () => {
  await h.stop();
});

describe("GET /v1/openapi.json", () => {
  it("answers without a token with a valid OpenAPI 3.1 document", async () => {
    const res = await h.call("GET", "/v1/openapi.json", { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.body.openapi).toBe("3.1.0");
    const verdict = await new Validator().validate(res.body);
    expect(verdict.errors ?? [], JSON.stringify(verdict.errors, null, 2)).toEqual([]);
    expect(verdict.valid).toBe(true);
  });

  it("documents the bearer scheme, the webhook's headers and the one error body", async () => {
    const { body } = await h.call("GET", "/v1/openapi.json", { token: null });
    expect(body.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    const webhook = body.paths["/webhooks/github"].post;
    expect(webhook.security).toEqual([]);
    expect(webhook.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      "header:X-Hub-Signature-256",
      "header:X-GitHub-Event",
      "header:X-GitHub-Delivery",
    ]);
    expect(body.components.schemas.Error.properties.error.properties.code.enum).toContain("bad_request");
    for (const op of operations) {
      const errors = Object.entries(op.operation as unknown as { responses: Record<string, unknown> })
        .filter(([key]) => key === "responses")
        .flatMap(([, responses]) => Object.entries(responses as Record<string, { content?: unknown }>))
        .filter(([status]) => Number(status) >= 400);
      expect(errors.length, op.id).toBeGreaterThan(0);
      for (const [status, response] of errors) {
        expect(response.content, `${op.id} ${status}`).toEqual({
          "application/json": { schema: { $ref: "#/components/schemas/Error" } },
        });
      }
      if (op.path.startsWith("/v1/") && op.path !== "/v1/openapi.json") {
        expect(op.protected, op.id).toBe(true);
      }
    }
  });

  it("lists every route the app serves under /v1, and the GitHub webhook", () => {
    const toDocumented = (path: string) => path.replace(/:([^/]+)/g, "{$1}");
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && (r.path.startsWith("/v1/") || r.path === "/webhooks/github"))
        .map((r) => `${r.method} ${toDocumented(r.path)}`),
    );
    const documented = new Set(operations.map((op) => `${op.method} ${op.path}`));
    expect([...served].sort()).toEqual([...documented].sort());
    expect(documented).toContain("GET /v1/metrics");
    expect(documented).toContain("POST /webhooks/github");
  });

  it.each(operations.map((op) => [`${op.method} ${op.path}`, op] as const))(
    "%s is routed: not the app's 404 and not 405",
    async (_label, op) => {
      const res = await h.call(op.method, fillPath(op), exampleBody(op));
      expect(res.status, res.text).not.toBe(405);
      if (res.status === 404) expect(res.body.error.message).not.toMatch(/^no route for/);
    },
  );
});

describe("GET /docs", () => {
  it("renders the document with scripts and styles served from here, each answering 200", async () => {
    const page = await h.call("GET", "/docs", { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const references = [...page.text.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)].map(
      (m) => m[1] ?? "",
    );
    expect(references.length).toBeGreaterThanOrEqual(3);
    expect(page.text).not.toMatch(/https?:\/\//);
    for (const reference of references) {
      expect(reference).toMatch(/^\/[^/]/);
      const asset = await h.call("GET", reference, { token: null });
      expect(asset.status, reference).toBe(200);
      expect(asset.text.length, reference).toBeGreaterThan(0);
    }
    const init = await h.call("GET", "/docs/init.js", { token: null });
    expect(init.text).toContain("/v1/openapi.json");
    expect(init.text).toContain("validatorUrl: null");
  });

  it("answers an unknown asset with the app's 404", async () => {
    const res = await h.call("GET", "/docs/constructor", { token: null });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});
