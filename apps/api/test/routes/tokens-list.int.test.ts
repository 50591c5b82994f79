import { describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, shownOnce, ciWeb, readWeb, ciApi } = fx;

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

auditSecrets(fx);
