import { beforeAll, describe, expect, it } from "vitest";
import { auditSecrets, expectError, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, web, ciWeb, readWeb, ciApi, deploy } = fx;

describe("GET /v1/projects/:project/environments", () => {
  let environmentId = "";

  beforeAll(async () => {
    await deploy(ciWeb.token, "web", "staging", "ghcr.io/acme/web:v1");
    const [row] = await h.sql`select id from environments where project_id = ${web.id} and name = 'staging'`;
    environmentId = row?.id;
  });

  it("lists the project's environments, sorted by name: 200", async () => {
    const res = await h.call("GET", "/v1/projects/web/environments", { token: readWeb.token });
    expect(res.status).toBe(200);
    const names = res.body.environments.map((e: { name: string }) => e.name);
    expect(names).toContain("staging");
    expect(names).toEqual([...names].sort());
    expect(res.body.environments.every((e: { project: string }) => e.project === "web")).toBe(true);
    expect(res.body.environments.find((e: { name: string }) => e.name === "staging")).toMatchObject({
      id: environmentId,
      kind: "fixed",
      status: "deploying",
      hostname: "staging.preview.test",
      url: "http://staging.preview.test:8080",
      image: "ghcr.io/acme/web:v1",
    });
  });

  it("answers 404 for an unknown project", async () => {
    expectError(await h.call("GET", "/v1/projects/ghost/environments"), 404, "not_found");
  });

  it("answers 400 for a bad project name", async () => {
    expectError(await h.call("GET", "/v1/projects/Web/environments"), 400, "bad_request");
  });

  it("answers 403 for another project's token and 401 without a token", async () => {
    const list = await h.call("GET", "/v1/projects/web/environments", { token: ciApi.token });
    expectError(list, 403, "forbidden");
    expect(list.text).not.toContain("staging");
    expectError(await h.call("GET", "/v1/projects/web/environments", { token: null }), 401, "unauthorized");
  });
});

auditSecrets(fx);
