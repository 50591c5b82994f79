import { describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, web, readWeb, ciApi } = fx;

describe("GET /v1/projects/:project", () => {
  it("shows a granted project and refuses another project's token", async () => {
    const res = await h.call("GET", "/v1/projects/web", { token: readWeb.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: web.id, name: "web", domain: "preview.test" });
    expectError(await h.call("GET", "/v1/projects/web", { token: ciApi.token }), 403, "forbidden");
    expectError(await h.call("GET", "/v1/projects/ghost"), 404, "not_found");
    expectError(await h.call("GET", "/v1/projects/Web"), 400, "bad_request");
  });
});

auditSecrets(fx);
