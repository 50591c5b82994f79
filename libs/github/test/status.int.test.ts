import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GithubApiError, GithubStatusClient, renderStickyComment, STICKY_MARKER } from "../src/index.ts";

const TOKEN = "ghs_test0123456789abcdefTOKEN";

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface Comment {
  id: number;
  body: string;
}

// A stand-in for api.github.com that records every request and answers like GitHub does.
// Comments are served two per page so that the sticky comment search has to follow `Link`.
const PAGE_SIZE = 2;
let requests: Recorded[] = [];
let comments: Comment[] = [];
let nextId = 1000;
let baseUrl = "";
let server: Server;

function reply(res: ServerResponse, status: number, body: unknown, headers = {}) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", baseUrl);
      const method = req.method ?? "GET";
      requests.push({
        method,
        path: `${url.pathname}${url.search}`,
        headers: req.headers,
        body: raw ? JSON.parse(raw) : null,
      });
      const route = `${method} ${url.pathname}`;

      if (route === "POST /repos/acme/web/deployments") return reply(res, 201, { id: 42, ref: "changes" });
      if (route === "POST /repos/acme/web/deployments/42/statuses")
        return reply(res, 201, { id: 7, state: "success" });
      if (route === "POST /repos/acme/web/deployments/43/statuses") {
        return reply(res, 422, {
          message: "Validation Failed",
          documentation_url: "https://docs.github.com",
        });
      }
      if (route === "POST /repos/acme/private/deployments") {
        // GitHub does not echo credentials, but the client must not leak them even if a proxy did.
        return reply(res, 401, { message: `Bad credentials for ${req.headers.authorization}` });
      }
      if (route === "GET /repos/acme/web/issues/7/comments") {
        const page = Number(url.searchParams.get("page") ?? "1");
        const last = Math.max(1, Math.ceil(comments.length / PAGE_SIZE));
        const link = (p: number) => `<${baseUrl}/repos/acme/web/issues/7/comments?per_page=100&page=${p}>`;
        const links = page < last ? { link: `${link(page + 1)}; rel="next", ${link(last)}; rel="last"` } : {};
        return reply(res, 200, comments.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE), links);
      }
      if (route === "POST /repos/acme/web/issues/7/comments") {
        const comment = { id: nextId++, body: (JSON.parse(raw) as { body: string }).body };
        comments.push(comment);
        return reply(res, 201, comment);
      }
      const patch = /^PATCH \/repos\/acme\/web\/issues\/comments\/(\d+)$/.exec(route);
      const existing = patch && comments.find((c) => c.id === Number(patch[1]));
      if (existing) {
        existing.body = (JSON.parse(raw) as { body: string }).body;
        return reply(res, 200, existing);
      }
      if (route === "GET /repos/acme/foreign/issues/1/comments") {
        return reply(res, 200, [], {
          link: `<http://example.invalid/repos/acme/foreign/issues/1/comments?page=2>; rel="next"`,
        });
      }
      return reply(res, 404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

beforeEach(() => {
  requests = [];
  comments = [
    { id: 1, body: "Looks good to me" },
    { id: 2, body: "Please add a test" },
    { id: 3, body: "Done" },
  ];
});

function client() {
  return new GithubStatusClient({ baseUrl, token: TOKEN, userAgent: "edgeplane-test" });
}

describe("GithubStatusClient", () => {
  it("sends GitHub's headers on every request", async () => {
    await client().createDeployment({
      owner: "acme",
      repo: "web",
      ref: "abc",
      environment: "pr-7",
      description: "x",
    });
    expect(requests[0]?.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "edgeplane-test",
      "content-type": "application/json",
    });
  });

  it("creates a transient deployment and its statuses", async () => {
    const github = client();
    const id = await github.createDeployment({
      owner: "acme",
      repo: "web",
      ref: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      environment: "pr-7",
      description: "edgeplane preview",
    });
    expect(id).toBe(42);
    await github.createDeploymentStatus("acme", "web", id, {
      state: "in_progress",
      description: "x".repeat(200),
    });
    await github.createDeploymentStatus("acme", "web", id, {
      state: "success",
      environment_url: "https://pr-7.preview.example.com",
      log_url: "https://edgeplane.example.com/deployments/dep_1",
    });

    expect(requests.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      {
        method: "POST",
        path: "/repos/acme/web/deployments",
        body: {
          ref: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
          environment: "pr-7",
          description: "edgeplane preview",
          auto_merge: false,
          required_contexts: [],
          transient_environment: true,
          production_environment: false,
        },
      },
      {
        method: "POST",
        path: "/repos/acme/web/deployments/42/statuses",
        body: { state: "in_progress", description: "x".repeat(140) },
      },
      {
        method: "POST",
        path: "/repos/acme/web/deployments/42/statuses",
        body: {
          state: "success",
          environment_url: "https://pr-7.preview.example.com",
          log_url: "https://edgeplane.example.com/deployments/dep_1",
        },
      },
    ]);
  });

  it("creates the sticky comment once, then updates it in place", async () => {
    const github = client();
    const first = renderStickyComment({
      environment: "pr-7",
      url: null,
      state: "in_progress",
      sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      updatedAt: new Date("2024-05-01T10:00:00Z"),
    });
    expect(await github.upsertStickyComment("acme", "web", 7, first)).toEqual({ id: 1000, created: true });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /repos/acme/web/issues/7/comments?per_page=100",
      "GET /repos/acme/web/issues/7/comments?per_page=100&page=2",
      "POST /repos/acme/web/issues/7/comments",
    ]);
    expect(requests[2]?.body).toEqual({ body: first });

    requests = [];
    const second = renderStickyComment({
      environment: "pr-7",
      url: "https://pr-7.preview.example.com",
      state: "success",
      sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      updatedAt: new Date("2024-05-01T10:02:00Z"),
    });
    expect(await github.upsertStickyComment("acme", "web", 7, second)).toEqual({ id: 1000, created: false });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /repos/acme/web/issues/7/comments?per_page=100",
      "GET /repos/acme/web/issues/7/comments?per_page=100&page=2",
      "PATCH /repos/acme/web/issues/comments/1000",
    ]);
    expect(requests[2]?.body).toEqual({ body: second });
    expect(comments.filter((c) => c.body.includes(STICKY_MARKER))).toEqual([{ id: 1000, body: second }]);
    expect(comments).toHaveLength(4);
  });

  it("adds the marker to a body that lacks it, so the next upsert finds it", async () => {
    const github = client();
    await github.upsertStickyComment("acme", "web", 7, "plain body");
    expect(comments.at(-1)?.body).toBe(`${STICKY_MARKER}\nplain body`);
    expect((await github.upsertStickyComment("acme", "web", 7, "plain body")).created).toBe(false);
  });

  it("does not follow pagination links to another origin with the token", async () => {
    const error = await client()
      .upsertStickyComment("acme", "foreign", 1, "body")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GithubApiError);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /repos/acme/foreign/issues/1/comments?per_page=100",
    ]);
  });

  it("maps a non-2xx answer to GithubApiError without the token", async () => {
    const error = await client()
      .createDeployment({
        owner: "acme",
        repo: "private",
        ref: "main",
        environment: "pr-1",
        description: "x",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GithubApiError);
    const apiError = error as GithubApiError;
    expect(apiError.status).toBe(401);
    expect(apiError.method).toBe("POST");
    expect(apiError.path).toBe("/repos/acme/private/deployments");
    expect(apiError.message).toContain("Bad credentials");
    expect(apiError.message).not.toContain(TOKEN);
    expect(JSON.stringify(apiError)).not.toContain(TOKEN);
    expect(String(apiError.stack)).not.toContain(TOKEN);

    const invalid = await client()
      .createDeploymentStatus("acme", "web", 43, { state: "failure" })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ name: "GithubApiError", status: 422 });
    expect((invalid as Error).message).toBe(
      "GitHub POST /repos/acme/web/deployments/43/statuses failed with 422: Validation Failed",
    );
  });

  it("keeps the path of a GitHub Enterprise base URL", async () => {
    const github = new GithubStatusClient({ baseUrl: `${baseUrl}/api/v3/`, token: TOKEN });
    const error = await github
      .createDeployment({ owner: "acme", repo: "web", ref: "main", environment: "pr-1", description: "x" })
      .catch((e: unknown) => e);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/v3/repos/acme/web/deployments"]);
    expect(error).toMatchObject({ status: 404 });
  });
});

describe("renderStickyComment", () => {
  it("renders the marker and a one-row table", () => {
    const body = renderStickyComment({
      environment: "pr-7",
      url: "https://pr-7.preview.example.com",
      state: "success",
      sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      updatedAt: new Date("2024-05-01T10:02:03.456Z"),
    });
    expect(body.startsWith(STICKY_MARKER)).toBe(true);
    expect(body).toContain(
      "| `pr-7` | ✅ Ready | https://pr-7.preview.example.com | `ec26c3e` | 2024-05-01 10:02:03 UTC |",
    );
  });
});
