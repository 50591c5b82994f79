import { randomBytes } from "node:crypto";
import { jobIds, QUEUES } from "@edgeplane/queue";
import { describe, expect, it } from "vitest";
import type { CallOptions } from "../support.ts";
import { auditSecrets, routeFixtures } from "./fixtures.ts";

const fx = routeFixtures();
const { h, web, ciWeb, readWeb, ciApi, createProject, deploy, refused } = fx;

describe("POST /v1/deployments", () => {
  const image = "ghcr.io/acme/web:sha-1";
  const body = { project: "web", environment: "pr-1908", image };
  let first: { id: string; environmentId: string };

  it("records the intent and enqueues one signed stage job: 202", async () => {
    const jobsBefore = await h.allJobCounts();
    const res = await h.call("POST", "/v1/deployments", { token: ciWeb.token, json: body });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^dep_[0-9a-f]+$/),
      project: "web",
      environment: "pr-1908",
      status: "queued",
      url: "http://pr-1908.preview.test:8080",
      image,
      generation: 1,
      digest: null,
      error: null,
    });
    expect(res.body.phases.queued).toEqual(expect.any(String));
    const id: string = res.body.id;
    expect(res.headers.get("location")).toBe(`/v1/deployments/${id}`);

    // committed rows
    const [env] = await h.sql`select * from environments where project_id = ${web.id} and name = 'pr-1908'`;
    expect(env).toMatchObject({
      hostname: "pr-1908.preview.test",
      kind: "preview",
      status: "deploying",
      generation: 1,
      desired_image: image,
      current_deployment_id: id,
    });
    const [dep] = await h.sql`select * from deployments where id = ${id}`;
    expect(dep).toMatchObject({
      project_id: web.id,
      environment_id: env?.id,
      generation: 1,
      image,
      status: "queued",
      requested_by: ciWeb.id,
    });
    const events = await h.sql`select phase from deployment_events where deployment_id = ${id} order by id`;
    expect(events.map((e) => e.phase)).toEqual(["queued"]);

    // exactly one signed job, naming this deployment and nothing secret
    expect(await h.allJobCounts()).toEqual({
      ...jobsBefore,
      [QUEUES.stage]: (jobsBefore[QUEUES.stage] ?? 0) + 1,
    });
    const job = await h.queue(QUEUES.stage).getJob(jobIds.stage(id));
    expect(job).toBeDefined();
    expect(Object.keys(job?.data ?? {}).sort()).toEqual(["envelope", "signature"]);
    expect(JSON.parse(job?.data.envelope)).toMatchObject({
      deploymentId: id,
      environmentId: env?.id,
      projectId: web.id,
    });
    expect(h.verify(job?.data)).toMatchObject({
      deploymentId: id,
      environmentId: env?.id,
      projectId: web.id,
      generation: 1,
      image,
    });
    const tampered = {
      ...job?.data,
      envelope: job?.data.envelope.replace('"generation":1', '"generation":2'),
    };
    expect(() => h.verify(tampered)).toThrow();
    expect(JSON.stringify(job?.data)).not.toContain(ciWeb.token.slice(4));
    expect(JSON.stringify(job?.data)).not.toContain(h.adminToken);

    first = { id, environmentId: env?.id };
  });

  it("a second deploy to the same environment is generation 2, supersedes the first and withdraws its waiting stage job", async () => {
    const jobsBefore = await h.allJobCounts();
    const res = await h.call("POST", "/v1/deployments", {
      token: ciWeb.token,
      json: { ...body, image: "ghcr.io/acme/web:sha-2" },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      status: "queued",
      generation: 2,
      url: "http://pr-1908.preview.test:8080",
    });
    expect(res.body.id).not.toBe(first.id);

    const [old] = await h.sql`select status, superseded_at from deployments where id = ${first.id}`;
    expect(old?.status).toBe("superseded");
    expect(old?.superseded_at).not.toBeNull();
    const [env] =
      await h.sql`select id, generation, current_deployment_id, desired_image from environments where name = 'pr-1908'`;
    expect(env).toMatchObject({
      id: first.environmentId,
      generation: 2,
      current_deployment_id: res.body.id,
      desired_image: "ghcr.io/acme/web:sha-2",
    });
    expect(await h.count("environments")).toBeGreaterThan(0);
    // no worker took the first deployment's stage job: it is withdrawn, the new one takes its place
    expect(await h.allJobCounts()).toEqual(jobsBefore);
    expect(await h.queue(QUEUES.stage).getJob(jobIds.stage(first.id))).toBeUndefined();
    const job = await h.queue(QUEUES.stage).getJob(jobIds.stage(res.body.id));
    expect(h.verify(job?.data)).toMatchObject({ deploymentId: res.body.id, generation: 2 });

    const shown = await h.call("GET", `/v1/deployments/${first.id}`, { token: ciWeb.token });
    expect(shown.body.status).toBe("superseded");
    expect(shown.body.phases.superseded).toEqual(expect.any(String));
    expect(shown.body.events.map((e: { phase: string }) => e.phase)).toEqual(["queued", "superseded"]);
  });

  it("lets the admin deploy, with a fixed environment and no requester token", async () => {
    const res = await h.call("POST", "/v1/deployments", {
      json: {
        project: "api",
        environment: "staging",
        image: `registry.local:5000/acme/api@sha256:${"a".repeat(64)}`,
      },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ url: "http://staging.api.preview.test:8080", generation: 1 });
    const [row] =
      await h.sql`select e.kind, d.requested_by from deployments d join environments e on e.id = d.environment_id where d.id = ${res.body.id}`;
    expect(row).toMatchObject({ kind: "fixed", requested_by: null });
  });

  it.each(["PR_1", "a.b", "-x", "x-", "x".repeat(49), "../etc", "", "pr 1", "ünïcode"])(
    "answers 400 for the environment name %j and changes nothing",
    async (environment) => {
      await refused(
        "POST",
        "/v1/deployments",
        { token: ciWeb.token, json: { ...body, environment } },
        400,
        "bad_request",
      );
    },
  );

  it("accepts a 48-character environment name", async () => {
    await deploy(ciWeb.token, "web", "x".repeat(48), image);
  });

  it.each([
    "ghcr.io/acme/web",
    "UPPER/case:1",
    "a:b c",
    "x@sha256:zz",
    "",
    "ghcr.io/acme/web:",
    "ghcr.io/acme/web:tag;rm -rf /",
    `ghcr.io/acme/web:${"t".repeat(129)}`,
  ])("answers 400 for the image reference %j and changes nothing", async (ref) => {
    await refused(
      "POST",
      "/v1/deployments",
      { token: ciWeb.token, json: { ...body, image: ref } },
      400,
      "bad_request",
    );
  });

  const malformed: Array<[string, CallOptions]> = [
    ["a missing image", { json: { project: "web", environment: "pr-2" } }],
    ["an unknown extra field", { json: { ...body, generation: 99 } }],
    ["an invalid project name", { json: { ...body, project: "Web" } }],
    ["a body that is not JSON", { raw: "project=web", headers: { "content-type": "application/json" } }],
    ["the wrong content-type", { raw: JSON.stringify(body), headers: { "content-type": "text/plain" } }],
  ];
  it.each(malformed)("answers 400 for %s and changes nothing", async (_label, options) => {
    await refused("POST", "/v1/deployments", { token: ciWeb.token, ...options }, 400, "bad_request");
  });

  it("answers 404 for an unknown project and changes nothing", async () => {
    await refused("POST", "/v1/deployments", { json: { ...body, project: "ghost" } }, 404, "not_found");
  });

  it("answers 401 without a token or with a wrong one, and changes nothing", async () => {
    await refused("POST", "/v1/deployments", { token: null, json: body }, 401, "unauthorized");
    await refused(
      "POST",
      "/v1/deployments",
      { token: `ept_${randomBytes(32).toString("base64url")}`, json: body },
      401,
      "unauthorized",
    );
  });

  it("answers 403 for another project's token and for a read-only token, and changes nothing", async () => {
    await refused("POST", "/v1/deployments", { token: ciApi.token, json: body }, 403, "forbidden");
    await refused(
      "POST",
      "/v1/deployments",
      { token: ciApi.token, json: { ...body, environment: "pr-new" } },
      403,
      "forbidden",
    );
    await refused("POST", "/v1/deployments", { token: readWeb.token, json: body }, 403, "forbidden");
  });

  it("answers 409 when another project on the same domain owns the hostname, and changes nothing", async () => {
    await createProject("web-mirror", "preview.test");
    await deploy(ciWeb.token, "web", "pr-77", image);
    const res = await refused(
      "POST",
      "/v1/deployments",
      { json: { project: "web-mirror", environment: "pr-77", image } },
      409,
      "conflict",
    );
    expect(res.body.error.message).toContain("pr-77.preview.test");
    // a free hostname on the same domain is fine
    await deploy(h.adminToken, "web-mirror", "pr-78", image);
  });

  it("answers 409 quota_exceeded for one environment past maxEnvironments, stores nothing, and still redeploys", async () => {
    const created = await h.call("POST", "/v1/projects", {
      json: { name: "small", domain: "small.test", port: 8080, maxEnvironments: 2 },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.maxEnvironments).toBe(2);
    await deploy(h.adminToken, "small", "pr-1", image);
    await deploy(h.adminToken, "small", "pr-2", image);
    const res = await refused(
      "POST",
      "/v1/deployments",
      { json: { project: "small", environment: "pr-3", image } },
      409,
      "quota_exceeded",
    );
    expect(res.body.error.message).toContain("maxEnvironments");
    // an environment that exists is not one more: its redeploy goes through
    await deploy(h.adminToken, "small", "pr-2", image);
    // a destroyed one no longer counts
    expect((await h.call("DELETE", "/v1/projects/small/environments/pr-1")).status).toBe(202);
    await h.sql`update environments set status = 'destroyed' where name = 'pr-1' and project_id = ${created.body.id}`;
    await deploy(h.adminToken, "small", "pr-3", image);
  });

  it("checks each deploy against the project as it is now, not as a previous deploy read it", async () => {
    const created = await h.call("POST", "/v1/projects", {
      json: { name: "fenced", domain: "fenced.test", port: 8080 },
    });
    expect(created.status, created.text).toBe(201);
    await deploy(h.adminToken, "fenced", "pr-1", image);
    // the project changes after this process read it for the deploy above
    const updated = await h.call("PATCH", "/v1/projects/fenced", {
      json: { allowedImages: ["registry.example/other"] },
    });
    expect(updated.status, updated.text).toBe(200);
    const res = await refused(
      "POST",
      "/v1/deployments",
      { json: { project: "fenced", environment: "pr-1", image } },
      400,
      "bad_request",
    );
    expect(res.body.error.message).toContain("allowedImages");
    // changed behind the API's back (no verb at all): a redeploy still sees it, a new environment too
    await h.sql`update projects set allowed_images = '{}' where name = 'fenced'`;
    await deploy(h.adminToken, "fenced", "pr-1", image);
    await h.sql`update projects set max_environments = 1 where name = 'fenced'`;
    await refused(
      "POST",
      "/v1/deployments",
      { json: { project: "fenced", environment: "pr-2", image } },
      409,
      "quota_exceeded",
    );
  });

  it("refuses a hostname longer than DNS allows, at deploy as at project creation", async () => {
    const label = (n: number) => "d".repeat(n);
    // 63 + 1 + 63 + 1 + 63 + 1 + 52 = 244 characters: the longest domain a project may have
    const domain = [label(63), label(63), label(63), label(52)].join(".");
    expect(domain.length).toBe(244);
    await refused(
      "POST",
      "/v1/projects",
      {
        json: { name: "longer", domain: [label(63), label(63), label(63), label(53)].join("."), port: 8080 },
      },
      400,
      "bad_request",
    );
    const created = await h.call("POST", "/v1/projects", { json: { name: "long", domain, port: 8080 } });
    expect(created.status, created.text).toBe(201);
    // 8 + 1 + 244 = 253 characters: fits exactly; one more does not
    await deploy(h.adminToken, "long", "pr-12345", image);
    const res = await refused(
      "POST",
      "/v1/deployments",
      { json: { project: "long", environment: "pr-123456", image } },
      400,
      "bad_request",
    );
    expect(res.body.error.message).toMatch(/longer than DNS allows/);
  });
});

auditSecrets(fx);
