import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "@edgeplane/log";
import type { QueueName } from "./names.ts";

/**
 * A repeatable sweep: a BullMQ job scheduler (re-declared at every boot, so a flushed Redis gets it
 * back) and a worker for it. Sweep jobs carry no data and no authority: they only trigger a
 * level-triggered scan of Postgres and the runtime, so they are not signed.
 */
export async function runScheduledWorker(options: {
  queue: QueueName;
  connection: Redis;
  prefix: string;
  everyMs: number;
  log: Logger;
  process: () => Promise<void>;
}): Promise<{ worker: Worker; queue: Queue }> {
  const queue = new Queue(options.queue, { connection: options.connection, prefix: options.prefix });
  await queue.upsertJobScheduler(
    "sweep",
    { every: options.everyMs },
    { name: "sweep", data: {}, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } } },
  );
  const worker = new Worker(
    options.queue,
    async () => {
      await options.process();
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 1 },
  );
  worker.on("failed", (job, error) => options.log.warn({ queue: options.queue, jobId: job?.id, err: error.message }, "sweep failed"));
  worker.on("error", (error) => options.log.error({ queue: options.queue, err: error.message }, "sweep worker error"));
  return { worker, queue };
}
