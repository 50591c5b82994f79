import { errorMessage } from "@edgeplane/db";
import type { Logger } from "@edgeplane/log";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { QueueName } from "./names.ts";

/**
 * A repeatable sweep: a BullMQ job scheduler and a worker for it. The scheduler is declared at boot
 * and checked again every interval, so a Redis that restarted empty or was flushed gets it back
 * without a restart of this process. Sweep jobs carry no data and no authority: they only trigger
 * a level-triggered scan of Postgres and the runtime, so they are not signed.
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
  queue.on("error", () => {}); // the worker below reports connection trouble
  const declare = () =>
    queue.upsertJobScheduler(
      "sweep",
      { every: options.everyMs },
      { name: "sweep", data: {}, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } } },
    );
  await declare();
  const keeper = setInterval(
    () =>
      void (async () => {
        if (!(await queue.getJobScheduler("sweep"))) {
          await declare();
          options.log.info(
            { queue: options.queue },
            "job scheduler was missing (Redis flushed?); declared again",
          );
        }
      })().catch(() => {}),
    Math.max(options.everyMs, 1000),
  );
  keeper.unref();
  const worker = new Worker(
    options.queue,
    async () => {
      await options.process();
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 1 },
  );
  worker.on("failed", (job, error) => {
    // a failed query's message repeats the query and its parameters: its cause says what went wrong
    options.log.warn({ queue: options.queue, jobId: job?.id, err: errorMessage(error) }, "sweep failed");
  });
  worker.on("error", (error) =>
    options.log.error({ queue: options.queue, err: error.message }, "sweep worker error"),
  );
  worker.on("closed", () => {
    clearInterval(keeper);
    void queue.close().catch(() => {});
  });
  return { worker, queue };
}
