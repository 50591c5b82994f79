import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { QueueName } from "./names.ts";

/** States in which a job is still going to run (or runs now). */
const LIVE_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children"] as const;

export interface LiveJobs {
  /** Ids of every job of `queues` that is waiting, delayed or running. */
  ids(queues: QueueName[]): Promise<Set<string>>;
  close(): Promise<void>;
}

/**
 * Reads which jobs are still under way, so the resync only re-derives work that no job carries
 * any more (lost with a flushed Redis, never enqueued, or failed without a verdict). A job whose
 * worker died stays `active` until BullMQ notices its lock expired and runs it again.
 */
export function createLiveJobs(options: { connection: Redis; prefix: string }): LiveJobs {
  const queues = new Map<QueueName, Queue>();
  const queueFor = (name: QueueName) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: options.connection, prefix: options.prefix });
      queue.on("error", () => {});
      queues.set(name, queue);
    }
    return queue;
  };
  return {
    async ids(names) {
      const ids = new Set<string>();
      for (const name of names) {
        const jobs = await queueFor(name).getJobs([...LIVE_STATES], 0, -1);
        for (const job of jobs) if (job?.id) ids.add(job.id);
      }
      return ids;
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
