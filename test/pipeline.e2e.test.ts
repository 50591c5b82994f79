import { createSigner, generateSigningKey } from "@edgeplane/queue";
import { type Job, Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

// Races, replays, forgeries and failures: the pipeline converges on the latest intent, never acts
// on a job it cannot verify, and says what went wrong in words a human can act on.
describe("pipeline guarantees", () => {
  const system = new TestSystem();
  const repo = `acme/pipe-${system.id}`;
  const tags = ["a", "b", "c", "d", "e"];
  const images: Record<string, string> = {};
  let broken = "";
  let redis: ReturnType<TestSystem["redis"]>;
  const queues: Queue[] = [];
  const queue = (name: string) => {
    const q = new Queue(name, { connection: redis, prefix: system.prefix });
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    const published = await Promise.all(
      tags.map((t) => publishTestImage(repo, `sha-${t}`, { message: `build ${t}` })),
    );
    tags.forEach((t, i) => {
      images[t] = published[i] ?? "";
    });
    broken = await publishTestImage(repo, "broken", {
      cmd: ["/bin/sh", "-c", "echo listening nowhere; sleep 3600"],
    });
    await system.start({ EDGEPLANE_HEALTH_TIMEOUT_MS: "3000" });
    redis = system.redis();
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "shop", domain: "preview.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    redis?.disconnect();
    await system.stop();
  });

  const deploy = (environment: string, image: string) =>
    system.api("POST", "/v1/deployments", { body: { project: "shop", environment, image } });

  it("racing deploys to one environment end with one container running the latest request", async () => {
    const responses = await Promise.all(tags.map((t) => deploy("pr-7", images[t] ?? "")));
    expect(responses.map((r) => r.status)).toEqual(tags.map(() => 202));
    const latest = responses.reduce((a, b) => (b.body.generation > a.body.generation ? b : a));
    const final = await Promise.all(responses.map((r) => system.waitForDeployment(r.body.id)));
    for (const d of final) {
      if (d.id === latest.body.id) expect(d.status).toBe("ready");
      else expect(["ready", "superseded"]).toContain(d.status);
    }
    const env = await system.waitForEnvironment("shop", "pr-7", (e) => e.status === "ready");
    expect(env.image).toBe(latest.body.image);
    const wanted = `build ${latest.body.image.split(":sha-")[1]}\n`;
    expect(await system.viaGateway("pr-7.preview.test")).toEqual({ status: 200, text: wanted });
    const deadline = Date.now() + 15_000;
    while ((await system.containers(env.id)).length > 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const containers = await system.containers(env.id);
    expect(containers).toHaveLength(1);
    expect(containers[0]?.Labels["edgeplane.generation"]).toBe(String(latest.body.generation));
  });

  it("replaying every job of a finished deployment changes nothing", async () => {
    const res = await deploy("pr-8", images.a ?? "");
    const done = await system.waitForDeployment(res.body.id);
    expect(done.status).toBe("ready");
    const env = await system.waitForEnvironment("shop", "pr-8", (e) => e.status === "ready");
    const before = await system.containers(env.id);
    expect(before).toHaveLength(1);

    const replayed: Job[] = [];
    for (const name of ["stage-image", "reconcile", "ingress"]) {
      const q = queue(name);
      const completed = (await q.getJobs(["completed"])).filter(
        (j) => j.id?.includes(env.id) || j.id?.includes(res.body.id),
      );
      expect(completed.length).toBeGreaterThan(0);
      // a replay as Redis allows it: the same signed data, same queue, same job id (a signed job is
      // bound to both; the same data under another id is refused, see below)
      for (const job of completed) {
        await job.remove();
        replayed.push(await q.add(name, job.data, { jobId: job.id }));
      }
    }
    for (const job of replayed) await waitFinished(job);
    for (const job of replayed) expect(await job.getState()).toBe("completed");

    const after = await system.containers(env.id);
    expect(after.map((c) => c.Id)).toEqual(before.map((c) => c.Id));
    expect(await system.viaGateway("pr-8.preview.test")).toEqual({ status: 200, text: "build a\n" });
    expect((await system.api("GET", `/v1/deployments/${res.body.id}`)).body.status).toBe("ready");
  });

  it("never executes a tampered, unsigned or foreign-signed job put straight into Redis", async () => {
    const env = (await system.api("GET", "/v1/projects/shop/environments/pr-8")).body;
    const before = await system.containers(env.id);
    const reconcile = queue("reconcile");
    const [original] = (await reconcile.getJobs(["completed"])).filter((j) =>
      j.id?.startsWith(`reconcile-${env.id}`),
    );
    expect(original).toBeDefined();
    const signed = original?.data as { envelope: string; signature: string };
    const envelope = JSON.parse(signed.envelope);

    // a newer generation and another image, with the old signature
    const tampered = {
      envelope: JSON.stringify({ ...envelope, generation: envelope.generation + 5, image: images.e }),
      signature: signed.signature,
    };
    const unsigned = { envelope: signed.envelope };
    const foreign = createSigner(generateSigningKey().privateKey).sign(
      {
        deploymentId: envelope.deploymentId,
        environmentId: envelope.environmentId,
        projectId: envelope.projectId,
        generation: envelope.generation,
        image: images.e ?? null,
      },
      { queue: "reconcile", jobId: `forged-foreign-${system.id}` },
    );
    const ingress = queue("ingress");
    const jobs: Array<[Queue, Job]> = [
      [reconcile, await reconcile.add("reconcile", tampered, { jobId: `forged-tampered-${system.id}` })],
      [reconcile, await reconcile.add("reconcile", unsigned, { jobId: `forged-unsigned-${system.id}` })],
      [reconcile, await reconcile.add("reconcile", foreign, { jobId: `forged-foreign-${system.id}` })],
      [ingress, await ingress.add("ingress", tampered, { jobId: `forged-ingress-${system.id}` })],
    ];
    for (const [, job] of jobs) await waitFinished(job);
    for (const [q, job] of jobs) {
      expect(await job.getState()).toBe("failed");
      const fresh = await q.getJob(job.id ?? "");
      expect(fresh?.failedReason).toMatch(/^refused: /);
      expect(fresh?.attemptsMade).toBe(1); // refused without retry
    }
    const after = await system.containers(env.id);
    expect(after.map((c) => c.Id)).toEqual(before.map((c) => c.Id));
    expect(await system.viaGateway("pr-8.preview.test")).toEqual({ status: 200, text: "build a\n" });

    // ops see the refusals in the metrics
    const metrics = await system.api<string>("GET", "/v1/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^edgeplane_jobs_refused\{queue="reconcile"\} 3$/m);
    expect(metrics.body).toMatch(/^edgeplane_jobs_refused\{queue="ingress"\} 1$/m);
    expect(metrics.body).toMatch(/^edgeplane_deployments\{status="ready"\} \d+$/m);
    expect(metrics.body).toMatch(/^edgeplane_queue_jobs\{queue="stage-image",state="completed"\} \d+$/m);
  });

  it("never runs a real signed job moved to another queue or re-added under another id", async () => {
    const env = (await system.api("GET", "/v1/projects/shop/environments/pr-8")).body;
    const before = await system.containers(env.id);
    const stage = queue("stage-image");
    const reconcile = queue("reconcile");
    const ingress = queue("ingress");
    const [stageJob] = (await stage.getJobs(["completed"])).filter((j) => j.id?.startsWith("stage-dep_"));
    const [reconcileJob] = (await reconcile.getJobs(["completed"])).filter((j) =>
      j.id?.startsWith(`reconcile-${env.id}`),
    );
    expect(stageJob).toBeDefined();
    expect(reconcileJob).toBeDefined();
    const cases: Array<[Queue, Job, RegExp]> = [
      // a stage job (signed by the API, whose key only the workers of its queues trust) in reconcile
      [
        reconcile,
        await reconcile.add("reconcile", stageJob?.data, { jobId: `moved-stage-${system.id}` }),
        /^refused: envelope signed (for queue stage-image|by an unknown key)$/,
      ],
      // a reconcile job (signed by the workers' key, which ingress trusts) in ingress
      [
        ingress,
        await ingress.add("ingress", reconcileJob?.data, { jobId: `moved-reconcile-${system.id}` }),
        /^refused: envelope signed for queue reconcile$/,
      ],
      // a stage job in its own queue under another id
      [
        stage,
        await stage.add("stage-image", stageJob?.data, { jobId: `${stageJob?.id}-r1` }),
        /^refused: envelope signed for another job id$/,
      ],
    ];
    for (const [q, job, reason] of cases) {
      await waitFinished(job);
      const fresh = await q.getJob(job.id ?? "");
      expect(await job.getState()).toBe("failed");
      expect(fresh?.failedReason).toMatch(reason);
      expect(fresh?.attemptsMade).toBe(1); // refused without retry
    }
    expect((await system.containers(env.id)).map((c) => c.Id)).toEqual(before.map((c) => c.Id));
    expect(await system.viaGateway("pr-8.preview.test")).toEqual({ status: 200, text: "build a\n" });
  });

  it("a container that never gets healthy fails the deployment and the previous one keeps serving", async () => {
    const env = (await system.api("GET", "/v1/projects/shop/environments/pr-8")).body;
    const res = await deploy("pr-8", broken);
    expect(res.status).toBe(202);
    const done = await system.waitForDeployment(res.body.id);
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/did not become healthy within 3s|exited before passing its health check/);
    // the container's own last words are for the authenticated API (its events), never the error,
    // which the public status page shows
    expect(done.error).not.toMatch(/listening nowhere/);
    expect(done.error).not.toMatch(/\d+\.\d+\.\d+\.\d+/);
    expect(done.events.map((e: { message: string | null }) => e.message ?? "").join("\n")).toMatch(
      /listening nowhere/,
    );
    expect(await system.viaGateway("pr-8.preview.test")).toEqual({ status: 200, text: "build a\n" });
    const containers = await system.containers(env.id);
    expect(containers).toHaveLength(1);
    const failedEnv = (await system.api("GET", "/v1/projects/shop/environments/pr-8")).body;
    expect(failedEnv.status).toBe("failed");
  });

  it("an image that does not exist fails with a message naming it", async () => {
    const missing = `127.0.0.1:5001/${repo}:never-pushed`;
    const res = await deploy("pr-9", missing);
    expect(res.status).toBe(202);
    const done = await system.waitForDeployment(res.body.id);
    expect(done.status).toBe("failed");
    expect(done.error).toContain(`${repo}:never-pushed`);
    expect(done.error).toMatch(/not found|does not exist/);
  });
});

async function waitFinished(job: Job, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = await job.getState();
    if (state === "completed" || state === "failed") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${job.id} did not finish`);
}
