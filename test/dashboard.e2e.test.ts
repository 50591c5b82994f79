import { setTimeout as sleep } from "node:timers/promises";
import { appRoutes, buildHistoryRoutes } from "@bull-board/api/dist/routes.js";
import { QUEUES } from "@edgeplane/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, publishTestImage } from "./support/images.ts";
import { LocalRegistry } from "./support/registry.ts";
import { TestSystem } from "./support/system.ts";

const QUEUE_NAMES: string[] = Object.values(QUEUES);

// The ops dashboard (Bull Board at /admin/queues), driven over HTTP as its UI drives it: a job that
// failed for a transient reason (its registry was down) stays visible with its reason, and once the
// cause is fixed, retrying it from the dashboard deploys the environment and the API follows.
describe("ops dashboard", () => {
  const registry = new LocalRegistry({ name: "flaky" });
  const system = new TestSystem();
  const repo = `acme/ops-${system.id}`;
  let images: { one: string; two: string; stale: string };

  beforeAll(async () => {
    await registry.start();
    const publish = (tag: string, message: string) =>
      publishTestImage(repo, tag, { registry: registry.host, message, removeLocal: true });
    images = {
      one: await publish("one", "ops one"),
      two: await publish("two", "ops two"),
      stale: await publish("stale", "ops stale"),
    };
    await registry.stop(); // the images exist, but their registry refuses connections for now
    await system.start({
      EDGEPLANE_JOB_ATTEMPTS: "2",
      EDGEPLANE_JOB_BACKOFF_MS: "200",
      EDGEPLANE_RESYNC_INTERVAL_MS: "1000",
    });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "ops", domain: "ops.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
  });

  afterAll(async () => {
    await system.stop();
    await registry.destroy();
    for (const image of await docker.listImages()) {
      for (const ref of [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter((r) =>
        r.startsWith(`${registry.host}/`),
      )) {
        await docker
          .getImage(ref)
          .remove()
          .catch(() => {});
      }
    }
  });

  const basic = (password: string, user = "ops") =>
    `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const board = async (
    method: string,
    path: string,
    authorization: string | null = basic(system.adminToken),
  ) => {
    const response = await fetch(`${system.apiUrl}/admin/queues${path}`, {
      method,
      headers: authorization ? { authorization } : {},
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: response.status, body, text, headers: response.headers };
  };
  const deploy = (environment: string, image: string) =>
    system.api("POST", "/v1/deployments", { body: { project: "ops", environment, image } });

  async function waitJob(queue: string, id: string, status: string) {
    const deadline = Date.now() + 30_000;
    let last: Awaited<ReturnType<typeof board>> | undefined;
    while (Date.now() < deadline) {
      last = await board("GET", `/api/queues/${queue}/${id}`);
      if (last.status === 200 && last.body.status === status) return last.body;
      await sleep(100);
    }
    throw new Error(`job ${queue}/${id} not ${status}: ${JSON.stringify(last?.body)}`);
  }

  it("is for admins only: a browser is asked for credentials, a deploy token is refused", async () => {
    const anonymous = await board("GET", "", null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm="edgeplane ops"/);
    expect(anonymous.body.error.code).toBe("unauthorized");
    expect((await board("GET", "", basic("not-the-token"))).status).toBe(401);
    expect((await board("GET", "/api/queues", "Bearer not-the-token")).status).toBe(401);

    const ci = await system.api("POST", "/v1/tokens", { body: { name: "ci-ops", projects: ["ops"] } });
    expect(ci.status).toBe(201);
    const refused = await board("GET", "/api/queues", `Bearer ${ci.body.token}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");

    const page = await board("GET", "");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.text).toContain('<base href="/admin/queues/"');
    const asset = page.text.match(/static\/js\/main\.[^"']+\.js/)?.[0];
    expect(asset).toBeDefined();
    const assetUrl = `${system.apiUrl}/admin/queues/${asset}`;
    expect((await fetch(assetUrl, { headers: { authorization: basic(system.adminToken) } })).status).toBe(
      200,
    );
    expect((await fetch(assetUrl)).status).toBe(401);

    const listed = await board("GET", "/api/queues", `Bearer ${system.adminToken}`);
    expect(listed.status).toBe(200);
    expect(listed.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it("refuses every write of the pinned Bull Board but retrying one job", async () => {
    const routes = [
      ...appRoutes.api,
      ...buildHistoryRoutes({} as never, { hasUsage: true, canPurge: true, hasLatency: true }),
    ];
    const writes = routes
      .flatMap((r) =>
        (Array.isArray(r.method) ? r.method : [r.method]).flatMap((method) =>
          (Array.isArray(r.route) ? r.route : [r.route]).map((path) => ({ method: String(method), path })),
        ),
      )
      .filter((r) => r.method !== "get");
    expect(writes.length).toBeGreaterThan(15); // the version's own list, not one written here
    const concrete = (path: string) =>
      path
        .replace(":queueName", "stage-image")
        .replace(":jobId", "some-job")
        .replace(/:[A-Za-z]+/g, "x");
    const answers = await Promise.all(
      writes.map(async (w) => ({
        ...w,
        status: (await board(w.method.toUpperCase(), concrete(w.path))).status,
      })),
    );
    const allowed = answers.filter((a) => a.status !== 403);
    // the only write let through is retrying one job (here an unknown one, so Bull Board says 404)
    expect(allowed.map((a) => `${a.method} ${a.path}`)).toEqual(["put /api/queues/:queueName/:jobId/retry"]);
  });

  it("a job that failed for a transient reason is retried from the dashboard once fixed, and the deployment follows", async () => {
    const res = await deploy("pr-1", images.one);
    expect(res.status).toBe(202);
    const jobId = `stage-${res.body.id}`;

    // attempts exhausted: the deployment says why, the job stays visible with its reason
    const failed = await system.waitForDeployment(res.body.id, (d) => d.status === "failed", 30_000);
    expect(failed.error).toMatch(/unreachable|ECONNREFUSED|refused/i);
    expect((await system.api("GET", "/v1/projects/ops/environments/pr-1")).body.status).toBe("failed");
    const job = await waitJob("stage-image", jobId, "failed");
    expect(job.job.attempts).toBe(2);
    expect(job.job.failedReason).toMatch(/unreachable|ECONNREFUSED|refused/i);
    const listing = await board(
      "GET",
      "/api/queues?activeQueue=stage-image&status=failed&page=1&jobsPerPage=50",
    );
    const stage = listing.body.queues.find((q: { name: string }) => q.name === "stage-image");
    expect(stage.jobs.map((j: { id: string }) => j.id)).toContain(jobId);
    expect(stage.counts.failed).toBeGreaterThanOrEqual(1);
    // the resync leaves a failed deployment to humans
    await sleep(2500);
    expect((await system.api("GET", `/v1/deployments/${res.body.id}`)).body.status).toBe("failed");

    // the cause is fixed; retrying through the dashboard's own endpoint deploys it
    await registry.start();
    const retried = await board("PUT", `/api/queues/stage-image/${jobId}/retry`);
    expect(retried.status).toBe(204);
    const done = await system.waitForDeployment(res.body.id, (d) => d.status === "ready", 60_000);
    expect(done.error).toBeNull();
    expect(done.events.map((e: { phase: string }) => e.phase)).toEqual([
      "queued",
      "staging",
      "failed",
      "queued",
      "staging",
      "starting",
      "routing",
      "ready",
    ]);
    expect(
      done.events.find((e: { message: string | null }) => e.message === "retried after failure"),
    ).toBeDefined();
    const env = await system.waitForEnvironment("ops", "pr-1", (e) => e.status === "ready");
    expect(env.image).toBe(images.one);
    expect(await system.viaGateway("pr-1.ops.test")).toEqual({ status: 200, text: "ops one\n" });
    expect(await system.containers(env.id)).toHaveLength(1);
    await waitJob("stage-image", jobId, "completed");
  });

  it("retrying the failed job of a superseded deployment never rolls the environment back", async () => {
    await registry.stop();
    const stale = await deploy("pr-2", images.stale);
    expect(stale.status).toBe(202);
    await system.waitForDeployment(stale.body.id, (d) => d.status === "failed", 30_000);
    await waitJob("stage-image", `stage-${stale.body.id}`, "failed");
    await registry.start();
    const latest = await deploy("pr-2", images.two);
    expect(latest.status).toBe(202);
    expect((await system.waitForDeployment(latest.body.id)).status).toBe("ready");

    expect((await board("PUT", `/api/queues/stage-image/stage-${stale.body.id}/retry`)).status).toBe(204);
    await waitJob("stage-image", `stage-${stale.body.id}`, "completed");
    const after = (await system.api("GET", `/v1/deployments/${stale.body.id}`)).body;
    expect(after.status).toBe("failed");
    const env = (await system.api("GET", "/v1/projects/ops/environments/pr-2")).body;
    expect(env).toMatchObject({ status: "ready", image: images.two });
    expect(await system.viaGateway("pr-2.ops.test")).toEqual({ status: 200, text: "ops two\n" });
  });
});
