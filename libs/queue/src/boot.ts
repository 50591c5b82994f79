import type { WorkerEnv } from "@edgeplane/config";
import { createDb, type Db, type Sql } from "@edgeplane/db";
import { createLogger, type Logger } from "@edgeplane/log";
import {
  createProducer,
  createRedis,
  createSigner,
  createVerifier,
  type JobContext,
  type Producer,
  parsePublicKeys,
  type QueueName,
  retryOptions,
  runWorker,
  shutdownOnSignal,
} from "@edgeplane/queue";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";

export interface WorkerDeps {
  db: Db;
  /**
   * A pool of its own for the sessions that hold advisory locks (withAdvisoryLock) and LISTEN:
   * a lock holder's queries go through `db`, never waiting behind the sessions of locks.
   */
  sql: Sql;
  producer: Producer;
  log: Logger;
}

/**
 * The whole life of a worker process: connect, verify-and-process jobs from one queue, and on
 * SIGTERM stop taking work, finish what runs (under a deadline), close everything, exit.
 */
export async function bootWorker(options: {
  name: string;
  queue: QueueName;
  env: WorkerEnv;
  setup: (deps: WorkerDeps) => Promise<(ctx: JobContext) => Promise<void>>;
  /** More workers of the same process (a sweep, say), closed with it on shutdown. */
  extraWorkers?: (deps: WorkerDeps & { connection: Redis; prefix: string }) => Promise<Worker[]>;
  closers?: Array<() => Promise<unknown>>;
}): Promise<void> {
  const { env } = options;
  const log = createLogger(options.name, env.LOG_LEVEL);
  const { db, close: closeDb } = createDb(env.DATABASE_URL, { max: env.EDGEPLANE_WORKER_CONCURRENCY + 4 });
  // a job may hold a lock inside its lock (an environment's, then its network's); a job that
  // outlived its queue lock may run twice at once (BullMQ hands a stalled job out again)
  const { sql, close: closeLocks } = createDb(env.DATABASE_URL, {
    max: 2 * env.EDGEPLANE_WORKER_CONCURRENCY + 4,
  });
  const producerRedis = createRedis(env.REDIS_URL);
  const workerRedis = createRedis(env.REDIS_URL);
  const producer = createProducer({
    connection: producerRedis,
    prefix: env.EDGEPLANE_QUEUE_PREFIX,
    signer: createSigner(env.EDGEPLANE_SIGNING_KEY),
    jobOptions: retryOptions(env.EDGEPLANE_JOB_ATTEMPTS, env.EDGEPLANE_JOB_BACKOFF_MS),
  });
  const process = await options.setup({ db, sql, producer, log });
  const worker = runWorker({
    queue: options.queue,
    connection: workerRedis,
    prefix: env.EDGEPLANE_QUEUE_PREFIX,
    verifier: createVerifier(parsePublicKeys(env.EDGEPLANE_PUBLIC_KEYS), env.EDGEPLANE_JOB_MAX_AGE_MS),
    log,
    concurrency: env.EDGEPLANE_WORKER_CONCURRENCY,
    lockDurationMs: env.EDGEPLANE_JOB_LOCK_MS,
    process,
  });
  const extra = options.extraWorkers
    ? await options.extraWorkers({
        db,
        sql,
        producer,
        log,
        connection: workerRedis,
        prefix: env.EDGEPLANE_QUEUE_PREFIX,
      })
    : [];
  shutdownOnSignal({
    log,
    timeoutMs: env.EDGEPLANE_SHUTDOWN_TIMEOUT_MS,
    workers: [worker, ...extra],
    closers: [
      () => producer.close(),
      async () => {
        producerRedis.disconnect();
        workerRedis.disconnect();
      },
      closeDb,
      closeLocks,
      ...(options.closers ?? []),
    ],
  });
  await worker.waitUntilReady();
  log.info({ queue: options.queue, concurrency: env.EDGEPLANE_WORKER_CONCURRENCY }, "worker ready");
}
