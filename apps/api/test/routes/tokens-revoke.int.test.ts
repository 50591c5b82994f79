import { describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, ciWeb, ciApi, createToken, refused } = fx;

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

auditSecrets(fx);
