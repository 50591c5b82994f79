import { randomBytes } from "node:crypto";
import { createLogger } from "@edgeplane/log";
import { type Job, Queue, type Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createProducer,
  createRedis,
  createSigner,
  createVerifier,
  generateSigningKey,
  jobIds,
  parsePublicKeys,
  QUEUES,
  runWorker,
} from "../src/index.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

// A signed job is only good where its producer put it: the same bytes in another queue, or under
// another job id, are refused by a real worker without retry and never reach the processor.
describe("job envelopes bound to their queue and job id", () => {
  const prefix = `test-binding-${randomBytes(4).toString("hex")}`;
  const key = generateSigningKey();
  const redis = createRedis(REDIS_URL);
  const producer = createProducer({ connection: redis, prefix, signer: createSigner(key.privateKey) });
  const processed: string[] = [];
  const refused: string[] = [];
  const workers: Worker[] = [];
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix });
      queues.set(name, q);
    }
    return q;
  };
  const input = {
    deploymentId: "dep_b1d0001",
    environmentId: "env_b1d0001",
    projectId: "prj_b1d0001",
    generation: 1,
    image: "127.0.0.1:5001/acme/web:v1",
  };

  beforeAll(async () => {
    const verifier = createVerifier(parsePublicKeys(`${key.kid}=${key.publicKey}`), 60_000);
    for (const name of [QUEUES.stage, QUEUES.reconcile]) {
      const worker = runWorker({
        queue: name,
        connection: createRedis(REDIS_URL),
        prefix,
        verifier,
        log: createLogger("binding-test", "silent"),
        concurrency: 1,
        process: async ({ job }) => {
          processed.push(`${name}/${job.id}`);
        },
        onRejected: (reason) => refused.push(`${name}/${reason}`),
      });
      workers.push(worker);
      await worker.waitUntilReady();
    }
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    for (const q of queues.values()) {
      await q.obliterate({ force: true }).catch(() => {});
      await q.close();
    }
    await producer.close();
    redis.disconnect();
  });

  async function finished(q: Queue, id: string): Promise<Job> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const state = await q.getJobState(id);
      // read the job once it is finished: a copy read before holds no failedReason yet
      const job = state === "completed" || state === "failed" ? await q.getJob(id) : undefined;
      if (job) return job;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${id} did not finish`);
  }

  it("runs a job where it was signed for, and refuses its copy in another queue or under another id", async () => {
    const stageId = jobIds.stage(input.deploymentId);
    await producer.enqueue(QUEUES.stage, input, stageId, { attempts: 3 });
    const original = await finished(queue(QUEUES.stage), stageId);
    expect(await original.getState()).toBe("completed");
    expect(processed).toEqual([`${QUEUES.stage}/${stageId}`]);

    // the stage job's exact signed data, moved to the reconcile queue under a reconcile-looking id
    const movedId = jobIds.reconcile(input.environmentId, input.generation);
    await queue(QUEUES.reconcile).add(QUEUES.reconcile, original.data, { jobId: movedId, attempts: 3 });
    // and re-added to its own queue under another id (a replay that would dodge BullMQ's dedupe)
    const replayId = `${stageId}-r99`;
    await queue(QUEUES.stage).add(QUEUES.stage, original.data, { jobId: replayId, attempts: 3 });

    for (const [name, id] of [
      [QUEUES.reconcile, movedId],
      [QUEUES.stage, replayId],
    ] as const) {
      const job = await finished(queue(name), id);
      expect(await job.getState()).toBe("failed");
      expect(job.failedReason).toMatch(/^refused: envelope signed for /);
      expect(job.attemptsMade).toBe(1); // refused without retry
    }
    expect(processed).toEqual([`${QUEUES.stage}/${stageId}`]);
    expect(refused.sort()).toEqual([`${QUEUES.reconcile}/misbound`, `${QUEUES.stage}/misbound`]);
  });
});
