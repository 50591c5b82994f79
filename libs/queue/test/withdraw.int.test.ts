import { randomBytes } from "node:crypto";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import {
  createProducer,
  createRedis,
  createSigner,
  generateSigningKey,
  jobIds,
  QUEUES,
} from "../src/index.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

// A deploy withdraws the stage jobs of the deployments it superseded before a worker took them.
describe("withdrawing jobs", () => {
  const prefix = `test-withdraw-${randomBytes(4).toString("hex")}`;
  const redis = createRedis(REDIS_URL);
  const producer = createProducer({
    connection: redis,
    prefix,
    signer: createSigner(generateSigningKey().privateKey),
  });
  const queue = new Queue(QUEUES.stage, { connection: redis, prefix });
  const input = (n: number) => ({
    deploymentId: `dep_${String(n).padStart(20, "0")}`,
    environmentId: "env_00000000000000000001",
    projectId: "prj_00000000000000000001",
    generation: n,
    image: "127.0.0.1:5001/acme/web:v1",
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await producer.close();
    await redis.quit();
  });

  it("removes the waiting jobs named, leaves the others, and ignores ids that are not there", async () => {
    for (const n of [1, 2, 3])
      await producer.enqueue(QUEUES.stage, input(n), jobIds.stage(input(n).deploymentId));
    await producer.withdraw(QUEUES.stage, [
      jobIds.stage(input(1).deploymentId),
      jobIds.stage(input(2).deploymentId),
      jobIds.stage("dep_99999999999999999999"),
    ]);
    const waiting = await queue.getWaiting();
    expect(waiting.map((job) => job.id)).toEqual([jobIds.stage(input(3).deploymentId)]);
  });
});
