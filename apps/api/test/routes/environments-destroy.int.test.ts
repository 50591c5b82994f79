import { jobIds, QUEUES } from "@edgeplane/queue";
import { beforeAll, describe, expect, it } from "vitest";
import { auditSecrets, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, web, ciWeb, readWeb, ciApi, deploy, refused } = fx;

describe("DELETE /v1/projects/:project/environments/:environment", () => {
  let doomed: { id: string; environmentId: string };

  beforeAll(async () => {
    const dep = await deploy(ciWeb.token, "web", "pr-500", "ghcr.io/acme/web:v5");
    await deploy(ciWeb.token, "web", "pr-501", "ghcr.io/acme/web:v5");
    const [row] = await h.sql`select id from environments where project_id = ${web.id} and name = 'pr-500'`;
    doomed = { id: dep.id, environmentId: row?.id };
  });

  it("marks the environment destroying, bumps its generation and enqueues one teardown: 202", async () => {
    const jobsBefore = await h.allJobCounts();
    const res = await h.call("DELETE", "/v1/projects/web/environments/pr-500", { token: ciWeb.token });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      id: doomed.environmentId,
      name: "pr-500",
      status: "destroying",
      generation: 2,
      image: null,
      deploymentId: null,
    });

    const [env] = await h.sql`select * from environments where id = ${doomed.environmentId}`;
    expect(env).toMatchObject({
      status: "destroying",
      generation: 2,
      desired_image: null,
      current_deployment_id: null,
    });
    const [dep] = await h.sql`select status from deployments where id = ${doomed.id}`;
    expect(dep?.status).toBe("superseded");

    // the janitor's teardown removes containers and route; nothing else is enqueued
    expect(await h.allJobCounts()).toEqual({
      ...jobsBefore,
      [QUEUES.teardown]: (jobsBefore[QUEUES.teardown] ?? 0) + 1,
    });
    const job = await h.queue(QUEUES.teardown).getJob(jobIds.teardown(doomed.environmentId, 2));
    expect(job).toBeDefined();
    expect(h.verify(job?.data)).toMatchObject({
      deploymentId: null,
      environmentId: doomed.environmentId,
      projectId: web.id,
      generation: 2,
      image: null,
    });
  });

  it("a second DELETE is 202 and enqueues nothing new", async () => {
    const before = await h.snapshot();
    const res = await h.call("DELETE", "/v1/projects/web/environments/pr-500", { token: ciWeb.token });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ status: "destroying", generation: 2 });
    expect(await h.snapshot()).toEqual(before);
  });

  it("answers 404 for an unknown environment or project and changes nothing", async () => {
    await refused(
      "DELETE",
      "/v1/projects/web/environments/pr-999999",
      { token: ciWeb.token },
      404,
      "not_found",
    );
    await refused("DELETE", "/v1/projects/ghost/environments/pr-501", {}, 404, "not_found");
  });

  it("answers 400 for a bad environment name and changes nothing", async () => {
    await refused(
      "DELETE",
      "/v1/projects/web/environments/PR_501",
      { token: ciWeb.token },
      400,
      "bad_request",
    );
  });

  it("answers 403 for a read-only token or another project's token, 401 without one, and changes nothing", async () => {
    const path = "/v1/projects/web/environments/pr-501";
    await refused("DELETE", path, { token: readWeb.token }, 403, "forbidden");
    await refused("DELETE", path, { token: ciApi.token }, 403, "forbidden");
    await refused("DELETE", path, { token: null }, 401, "unauthorized");
    const [env] =
      await h.sql`select status from environments where project_id = ${web.id} and name = 'pr-501'`;
    expect(env?.status).toBe("deploying");
  });
});

auditSecrets(fx);
