import { beforeAll, describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, ciWeb, readWeb, ciApi, deploy } = fx;

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

auditSecrets(fx);
