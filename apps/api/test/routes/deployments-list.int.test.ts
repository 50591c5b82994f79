import { beforeAll, describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, ciWeb, readWeb, ciApi, deploy } = fx;

describe("GET /v1/projects/:project/environments/:environment/deployments", () => {
  const ids: string[] = [];

  beforeAll(async () => {
    for (const tag of ["v1", "v2", "v3"]) {
      ids.push((await deploy(ciWeb.token, "web", "history", `ghcr.io/acme/web:${tag}`)).id);
    }
    await deploy(ciWeb.token, "web", "other", "ghcr.io/acme/web:other");
  });

  it("lists the environment's deployments, newest first, each with its phases: 200", async () => {
    const res = await h.call("GET", "/v1/projects/web/environments/history/deployments", {
      token: readWeb.token,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.deployments.map((d: { id: string }) => d.id)).toEqual([...ids].reverse());
    expect(res.body.deployments[0]).toMatchObject({
      project: "web",
      environment: "history",
      image: "ghcr.io/acme/web:v3",
      generation: 3,
      status: "queued",
      phases: { queued: expect.any(String), ready: null },
    });
  });

  it("answers at most `limit` of them", async () => {
    const res = await h.call("GET", "/v1/projects/web/environments/history/deployments?limit=2");
    expect(res.body.deployments.map((d: { id: string }) => d.id)).toEqual([ids[2], ids[1]]);
    for (const limit of ["0", "101", "x"]) {
      expectError(
        await h.call("GET", `/v1/projects/web/environments/history/deployments?limit=${limit}`),
        400,
        "bad_request",
      );
    }
  });

  it("answers 404 for an unknown project or environment", async () => {
    expectError(await h.call("GET", "/v1/projects/ghost/environments/history/deployments"), 404, "not_found");
    expectError(await h.call("GET", "/v1/projects/web/environments/nope/deployments"), 404, "not_found");
  });

  it("answers 401 without a token and 403 for another project's token", async () => {
    const path = "/v1/projects/web/environments/history/deployments";
    expectError(await h.call("GET", path, { token: null }), 401, "unauthorized");
    expectError(await h.call("GET", path, { token: ciApi.token }), 403, "forbidden");
  });
});

auditSecrets(fx);
