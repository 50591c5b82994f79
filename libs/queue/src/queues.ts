import { type JobsOptions, Queue } from "bullmq";
import { Redis } from "ioredis";
import type { EnvelopeInput } from "./envelope.ts";
import type { QueueName } from "./names.ts";
import type { Signer } from "./signing.ts";

/** Attempts with exponential backoff and jitter; completed jobs bounded, failures kept as evidence. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 6,
  backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
  removeOnComplete: { count: 1000, age: 24 * 3600 },
  removeOnFail: { count: 10_000, age: 14 * 24 * 3600 },
};

/** Attempts and first backoff delay from configuration (EDGEPLANE_JOB_ATTEMPTS, EDGEPLANE_JOB_BACKOFF_MS). */
export function retryOptions(attempts: number, backoffMs: number): JobsOptions {
  return { attempts, backoff: { type: "exponential", delay: backoffMs, jitter: 0.5 } };
}

export function createRedis(url: string, options: { failFast?: boolean } = {}): Redis {
  if (options.failFast) {
    // For request handlers: a command fails at once while Redis is unreachable instead of waiting
    // in ioredis's offline queue, so the caller can answer (and the resync catches up later).
    return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, enableReadyCheck: true });
  }
  // BullMQ workers need maxRetriesPerRequest: null to wait out a Redis restart instead of failing.
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

export interface Producer {
  enqueue(queue: QueueName, input: EnvelopeInput, jobId: string, options?: JobsOptions): Promise<void>;
  /**
   * Removes jobs no longer wanted (their work was superseded in Postgres) unless a worker holds
   * them already; ids that are not there are ignored.
   */
  withdraw(queue: QueueName, jobIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Signs every job it enqueues; one BullMQ Queue per name, created on first use. */
export function createProducer(options: {
  connection: Redis;
  prefix: string;
  signer: Signer;
  /** Overrides of DEFAULT_JOB_OPTIONS (attempts and backoff from configuration). */
  jobOptions?: JobsOptions;
}): Producer {
  const queues = new Map<QueueName, Queue>();
  const queueFor = (name: QueueName) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: options.connection,
        prefix: options.prefix,
        defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions },
      });
      // connection errors surface where the enqueue is awaited; the event only needs a listener
      queue.on("error", () => {});
      queues.set(name, queue);
    }
    return queue;
  };
  return {
    async enqueue(name, input, jobId, jobOptions) {
      // bound to where it goes: the same signed data under another queue or job id is refused
      const data = options.signer.sign(input, { queue: name, jobId });
      await queueFor(name).add(name, data, { ...jobOptions, jobId });
    },
    async withdraw(name, jobIds) {
      const queue = queueFor(name);
      // removal refuses a job a worker holds (its lock): that one runs, and skips superseded work
      await Promise.all(jobIds.map((jobId) => queue.remove(jobId, { removeChildren: false })));
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
