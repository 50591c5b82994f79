import type { ContainerLogs } from "@edgeplane/services";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiHarness, type CallOptions, type Reply } from "../support.ts";

// What every route's test file shares: the API in-process (app.request) against a real Postgres
// database and a real BullMQ producer, both private to the file; two projects and tokens with
// different grants; and checks that a refused request changed nothing and that no reply leaked a
// token.

export function expectError(res: Reply, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String), requestId: expect.any(String) } });
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
}

export interface TokenFixture {
  id: string;
  token: string;
}

/** Starts a harness for this file (stopped after it) with the shared projects and tokens. */
export function routeFixtures(options: { containerLogs?: ContainerLogs } = {}) {
  const h = new ApiHarness({ bodyLimitBytes: 4096, ...options });
  /** Plaintext tokens created here, with the index (in h.replies) of the only reply allowed to show them. */
  const shownOnce = new Map<string, number>();
  // filled in before the file's tests run; the objects stay the same, so they can be destructured
  const web = { id: "" };
  const ciWeb: TokenFixture = { id: "", token: "" };
  const readWeb: TokenFixture = { id: "", token: "" };
  const ciApi: TokenFixture = { id: "", token: "" };

  async function createProject(name: string, domain: string, port = 8080) {
    const res = await h.call("POST", "/v1/projects", { json: { name, domain, port } });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; name: string };
  }

  async function createToken(name: string, projects: string[], scopes?: string[]): Promise<TokenFixture> {
    const res = await h.call("POST", "/v1/tokens", {
      json: { name, projects, ...(scopes ? { scopes } : {}) },
    });
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

  beforeAll(async () => {
    await h.start();
    Object.assign(web, await createProject("web", "preview.test"));
    await createProject("api", "api.preview.test");
    Object.assign(ciWeb, await createToken("ci-web", ["web"]));
    Object.assign(readWeb, await createToken("read-web", ["web"], ["read"]));
    Object.assign(ciApi, await createToken("ci-api", ["api"]));
  });

  afterAll(async () => {
    await h.stop();
  });

  return { h, shownOnce, web, ciWeb, readWeb, ciApi, createProject, createToken, deploy, refused };
}

/** Runs last in a file: every reply the file received, checked for secrets. */
export function auditSecrets({ h, shownOnce }: ReturnType<typeof routeFixtures>) {
  describe("secrets in responses", () => {
    it("never shows the admin token, and shows each created token only in its creation reply", () => {
      expect(h.replies.length).toBeGreaterThan(5);
      expect(shownOnce.size).toBeGreaterThanOrEqual(3);
      for (const [i, reply] of h.replies.entries()) {
        expect(reply.text, `${reply.method} ${reply.path}`).not.toContain(h.adminToken);
        for (const [token, shownAt] of shownOnce) {
          if (i !== shownAt)
            expect(reply.text, `${reply.method} ${reply.path}`).not.toContain(token.slice(4));
        }
      }
    });
  });
}
