import type { Logger } from "@edgeplane/log";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Envelope } from "./envelope.ts";
import type { QueueName } from "./names.ts";
import { JobRejected, type Verifier } from "./signing.ts";

export interface JobContext {
  envelope: Envelope;
  job: Job;
  log: Logger;
  /** The worker's lock token for this job: needed to move it to delayed (`job.moveToDelayed`). */
  token?: string;
}

export interface RunWorkerOptions {
  queue: QueueName;
  connection: Redis;
  prefix: string;
  verifier: Verifier;
  log: Logger;
  concurrency: number;
  /** How long a job's lock lasts without renewal; a dead worker's job runs again after about this long. */
  lockDurationMs?: number;
  process: (ctx: JobContext) => Promise<void>;
  /** Called for every refused job (metrics hook). */
  onRejected?: (reason: string) => void;
}

/**
 * Starts a BullMQ worker whose jobs must carry a valid signed envelope. A refused job fails
 * without retry and is never handed to the processor. Processors rethrow; a permanent failure
 * throws UnrecoverableError after recording why.
 */
export function runWorker(options: RunWorkerOptions): Worker {
  const worker = new Worker(
    options.queue,
    async (job, token) => {
      let envelope: Envelope;
      try {
        // BullMQ always has an id for a job it hands out; "" never matches a signed id
        envelope = options.verifier.verify(job.data, { queue: options.queue, jobId: job.id ?? "" });
      } catch (error) {
        if (error instanceof JobRejected) {
          options.onRejected?.(error.reason);
          options.log.warn({ queue: options.queue, jobId: job.id, reason: error.reason }, "refused job");
          throw new UnrecoverableError(`refused: ${error.message}`);
        }
        throw error;
      }
      const log = options.log.child({
        queue: options.queue,
        jobId: job.id,
        deploymentId: envelope.deploymentId,
        environmentId: envelope.environmentId,
        generation: envelope.generation,
      });
      await options.process({ envelope, job, log, token });
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // a job whose worker died is picked up again after the lock expires
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.lockDurationMs ?? 30_000,
      maxStalledCount: 3,
    },
  );
  worker.on("failed", (job, error) => {
    options.log.warn(
      { queue: options.queue, jobId: job?.id, attempts: job?.attemptsMade, err: error.message },
      "job failed",
    );
  });
  worker.on("error", (error) =>
    options.log.error({ err: error.message, queue: options.queue }, "worker error"),
  );
  return worker;
}

/**
 * SIGTERM/SIGINT: stop taking work, let running jobs finish under a deadline, then run the
 * closers (queues, Redis, Postgres) and exit.
 */
export function shutdownOnSignal(opts: {
  log: Logger;
  timeoutMs: number;
  workers: Worker[];
  closers: Array<() => Promise<unknown>>;
}): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    opts.log.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      opts.log.error("shutdown deadline passed; exiting with jobs still running (they will be retried)");
      process.exit(1);
    }, opts.timeoutMs);
    deadline.unref();
    try {
      await Promise.all(opts.workers.map((w) => w.close()));
      for (const close of opts.closers) await close();
      opts.log.info("stopped");
      process.exit(0);
    } catch (error) {
      opts.log.error({ err: (error as Error).message }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
