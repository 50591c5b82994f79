import { beforeAll, describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, web, ciWeb, ciApi, deploy } = fx;

describe("GET /v1/projects/:project/environments/:environment", () => {
  let environmentId = "";

  beforeAll(async () => {
    await deploy(ciWeb.token, "web", "staging", "ghcr.io/acme/web:v1");
    const [row] = await h.sql`select id from environments where project_id = ${web.id} and name = 'staging'`;
    environmentId = row?.id;
  });

  it("shows one environment: 200", async () => {
    const res = await h.call("GET", "/v1/projects/web/environments/staging", { token: ciWeb.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: environmentId, project: "web", name: "staging", generation: 1 });
  });

  it("answers 404 for an unknown project or environment", async () => {
    expectError(await h.call("GET", "/v1/projects/ghost/environments/staging"), 404, "not_found");
    expectError(
      await h.call("GET", "/v1/projects/web/environments/pr-999999", { token: ciWeb.token }),
      404,
      "not_found",
    );
  });

  it("answers 400 for a bad environment name", async () => {
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
  });

  it("answers 403 for another project's token", async () => {
    expectError(
      await h.call("GET", "/v1/projects/web/environments/staging", { token: ciApi.token }),
      403,
      "forbidden",
    );
  });
});

auditSecrets(fx);
