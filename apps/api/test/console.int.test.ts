import { createRedis } from "@edgeplane/queue";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CSP } from "../src/console/assets.ts";
import { redisConsoleSessions, SESSION_TTL_SECONDS } from "../src/console/sessions.ts";
import { auditSecrets, expectError, routeFixtures } from "./routes/fixtures.ts";
import { REDIS_URL } from "./support.ts";

// The web console's server side: its pages under a strict CSP, and its session: a token posted
// once becomes an HttpOnly, SameSite=Strict cookie holding an opaque id, which /v1 accepts only with
// the console's header, and which ends at sign-out, when the token is revoked, or never starts for
// a bad token.
const fx = routeFixtures();
const { h, ciWeb, readWeb, createToken, deploy } = fx;
const CONSOLE = { "x-edgeplane-console": "1" };

/** Signs in with `token`; answers the reply and the cookie (`name=value`) it set. */
async function signIn(token: string, headers: Record<string, string> = {}) {
  const res = await h.call("POST", "/console/session", {
    token: null,
    json: { token },
    headers: { ...CONSOLE, ...headers },
  });
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { res, setCookie, cookie: setCookie.split(";")[0] ?? "" };
}

describe("the console's pages", () => {
  it("GET / is the bundled page, under a CSP that allows only this origin", async () => {
    const page = await h.call("GET", "/", { token: null });
    expect(page.status, page.text).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toMatch(/^default-src 'self';/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(page.text).not.toMatch(/<script>|<style|style=/); // nothing inline: the CSP would refuse it
    const references = [...page.text.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
    const types: Record<string, string> = { js: "text/javascript", css: "text/css", svg: "image/svg+xml" };
    expect(references.map((r) => r.split(".").pop()).sort()).toEqual(["css", "js", "svg"]);
    for (const reference of references) {
      expect(reference).toMatch(/^\/assets\/[\w.-]+$/);
      const asset = await h.call("GET", reference, { token: null });
      expect(asset.status, reference).toBe(200);
      expect(asset.headers.get("content-type")).toContain(types[reference.split(".").pop() ?? ""]);
      expect(asset.headers.get("cache-control")).toContain("immutable");
      expect(asset.text.length).toBeGreaterThan(0);
    }
  });

  it("an unknown asset, or a path out of the bundle, is the app's 404", async () => {
    for (const path of ["/assets/nope.js", "/assets/..%2Fpackage.json", "/assets/%2e%2e/package.json"]) {
      const res = await h.call("GET", path, { token: null });
      expect(res.status, path).toBe(404);
      expect(res.text).not.toContain("@edgeplane/app-console");
    }
  });
});

describe("POST /console/session", () => {
  it("sets an HttpOnly, SameSite=Strict session cookie holding an opaque id, never the token", async () => {
    const { res, setCookie, cookie } = await signIn(readWeb.token);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ tokenName: "read-web", scopes: ["read"], projects: ["web"] });
    expect(setCookie).toMatch(/^edgeplane_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(new RegExp(`; Max-Age=${SESSION_TTL_SECONDS}`));
    expect(setCookie).not.toMatch(/; Secure/); // plain http: a Secure cookie would never come back
    expect(cookie).not.toContain(readWeb.token.slice(4));
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("marks the cookie Secure when the browser came over https", async () => {
    const { setCookie } = await signIn(ciWeb.token, { "x-forwarded-proto": "https" });
    expect(setCookie).toMatch(/; Secure/);
  });

  it("the admin token signs in as admin", async () => {
    const { res } = await signIn(h.adminToken);
    expect(res.body).toEqual({ tokenName: "admin", scopes: ["admin"], projects: [] });
  });

  it("refuses an unknown token with 401 and no cookie", async () => {
    const { res, setCookie } = await signIn(`ept_${"x".repeat(43)}`);
    expectError(res, 401, "unauthorized");
    expect(setCookie).toBe("");
  });

  it("refuses a call without the console's header (403) and a malformed body (400)", async () => {
    const noHeader = await h.call("POST", "/console/session", { token: null, json: { token: h.adminToken } });
    expectError(noHeader, 403, "forbidden");
    expect(noHeader.headers.get("set-cookie")).toBeNull();
    // what a cross-site HTML form could send: no custom header, a form-encoded body
    const form = await h.call("POST", "/console/session", {
      token: null,
      raw: `token=${h.adminToken}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectError(form, 403, "forbidden");
    for (const json of [{}, { token: "" }, { token: 1 }, { token: "a", extra: true }]) {
      expectError(
        await h.call("POST", "/console/session", { token: null, json, headers: CONSOLE }),
        400,
        "bad_request",
      );
    }
  });
});

describe("the session cookie on /v1", () => {
  it("counts with the console's header, and is refused without it (401)", async () => {
    const { cookie } = await signIn(readWeb.token);
    const ok = await h.call("GET", "/v1/projects", { token: null, headers: { cookie, ...CONSOLE } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.projects.map((p: { name: string }) => p.name)).toEqual(["web"]);
    expectError(
      await h.call("GET", "/v1/projects", { token: null, headers: { cookie } }),
      401,
      "unauthorized",
    );
    expectError(
      await h.call("GET", "/v1/projects", { token: null, headers: { cookie, "x-edgeplane-console": "yes" } }),
      401,
      "unauthorized",
    );
    expectError(await h.call("GET", "/v1/projects", { token: null, headers: CONSOLE }), 401, "unauthorized");
  });

  it("a made-up session id is refused", async () => {
    const cookie = `edgeplane_session=${"A".repeat(43)}`;
    expectError(
      await h.call("GET", "/v1/projects", { token: null, headers: { cookie, ...CONSOLE } }),
      401,
      "unauthorized",
    );
    expectError(
      await h.call("GET", "/console/me", { token: null, headers: { cookie, ...CONSOLE } }),
      401,
      "unauthorized",
    );
  });

  it("carries the token's scopes: a read-only session cannot deploy or destroy (403, nothing changed)", async () => {
    await deploy(ciWeb.token, "web", "console-env", "ghcr.io/acme/web:console");
    const { cookie } = await signIn(readWeb.token);
    const headers = { cookie, ...CONSOLE };
    await fx.refused(
      "DELETE",
      "/v1/projects/web/environments/console-env",
      { token: null, headers },
      403,
      "forbidden",
    );
    await fx.refused(
      "POST",
      "/v1/deployments",
      {
        token: null,
        headers,
        json: { project: "web", environment: "console-env", image: "ghcr.io/acme/web:x" },
      },
      403,
      "forbidden",
    );
    const env = await h.call("GET", "/v1/projects/web/environments/console-env", { token: null, headers });
    expect(env.status).toBe(200);
  });

  it("a session with the deploy scope deploys, as its token", async () => {
    const { cookie } = await signIn(ciWeb.token);
    const res = await h.call("POST", "/v1/deployments", {
      token: null,
      headers: { cookie, ...CONSOLE },
      json: { project: "web", environment: "console-env", image: "ghcr.io/acme/web:console-2" },
    });
    expect(res.status, res.text).toBe(202);
  });

  it("a bearer token wins over a cookie", async () => {
    const { cookie } = await signIn(h.adminToken);
    const res = await h.call("GET", "/v1/tokens", { token: readWeb.token, headers: { cookie, ...CONSOLE } });
    expectError(res, 403, "forbidden");
  });
});

describe("GET /console/me and POST /console/logout", () => {
  it("/console/me says who is signed in; it needs the header and a session", async () => {
    const { cookie } = await signIn(ciWeb.token);
    const me = await h.call("GET", "/console/me", { token: null, headers: { cookie, ...CONSOLE } });
    expect(me.body).toEqual({ tokenName: "ci-web", scopes: ["deploy", "read"], projects: ["web"] });
    expectError(await h.call("GET", "/console/me", { token: null, headers: { cookie } }), 403, "forbidden");
    expectError(await h.call("GET", "/console/me", { token: null, headers: CONSOLE }), 401, "unauthorized");
  });

  it("sign-out ends the session server-side: the old cookie no longer counts", async () => {
    const { cookie } = await signIn(ciWeb.token);
    const out = await h.call("POST", "/console/logout", { token: null, headers: { cookie, ...CONSOLE } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^edgeplane_session=;.*Max-Age=0/);
    expectError(
      await h.call("GET", "/v1/projects", { token: null, headers: { cookie, ...CONSOLE } }),
      401,
      "unauthorized",
    );
    const again = await h.call("POST", "/console/logout", { token: null, headers: { cookie, ...CONSOLE } });
    expect(again.status).toBe(204);
  });

  it("revoking the token ends its sessions at once", async () => {
    const doomed = await createToken("console-doomed", ["web"], ["read"]);
    const { cookie } = await signIn(doomed.token);
    const headers = { cookie, ...CONSOLE };
    expect((await h.call("GET", "/console/me", { token: null, headers })).status).toBe(200);
    expect((await h.call("DELETE", `/v1/tokens/${doomed.id}`)).status).toBe(200);
    expectError(await h.call("GET", "/v1/projects", { token: null, headers }), 401, "unauthorized");
    expectError(await h.call("GET", "/console/me", { token: null, headers }), 401, "unauthorized");
  });
});

describe("sessions in Redis", () => {
  let redis: Redis;
  const prefix = `ept-console-${h.id}`;

  beforeAll(() => {
    redis = createRedis(REDIS_URL);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it("keeps the subject under the id's hash, expiring with the session; remove deletes it", async () => {
    const sessions = redisConsoleSessions({ redis, prefix });
    const id = await sessions.create({ kind: "token", tokenId: "tok_1" });
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessions.find(id)).toEqual({ kind: "token", tokenId: "tok_1" });
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(id);
    const ttl = await redis.ttl(keys[0] ?? "");
    expect(ttl).toBeGreaterThan(SESSION_TTL_SECONDS - 10);
    expect(ttl).toBeLessThanOrEqual(SESSION_TTL_SECONDS);
    expect(await sessions.find("B".repeat(43))).toBeNull();
    expect(await sessions.find("not an id")).toBeNull();
    await sessions.remove(id);
    expect(await sessions.find(id)).toBeNull();
  });

  it("answers unavailable when Redis cannot be reached, never a session", async () => {
    const down = createRedis("redis://127.0.0.1:1", { failFast: true });
    down.on("error", () => {});
    const sessions = redisConsoleSessions({ redis: down, prefix });
    await expect(sessions.find("C".repeat(43))).rejects.toMatchObject({ code: "unavailable" });
    await expect(sessions.create({ kind: "token", tokenId: "tok_2" })).rejects.toMatchObject({
      code: "unavailable",
    });
    down.disconnect();
  });
});

auditSecrets(fx);
