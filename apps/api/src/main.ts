import { apiEnv, exitOnConfigError, loadConfig } from "@edgeplane/config";
import { createDb, sql } from "@edgeplane/db";
import { createLogger } from "@edgeplane/log";
import {
  bestEffortProducer,
  createProducer,
  createRedis,
  createSigner,
  QUEUES,
  retryOptions,
} from "@edgeplane/queue";
import { runtimeFromEnv } from "@edgeplane/runtime";
import { serve } from "@hono/node-server";
import { Queue } from "bullmq";
import { createApp } from "./app.ts";
import { redisConsoleSessions } from "./console/sessions.ts";
import { redisRateLimiter } from "./rate-limit.ts";

const env = (() => {
  try {
    return loadConfig(apiEnv);
  } catch (error) {
    return exitOnConfigError(error);
  }
})();
const log = createLogger("api", env.LOG_LEVEL);
const { db, close: closeDb } = createDb(env.DATABASE_URL);
// fail fast: a request never waits on an unreachable Redis (its intent is already committed)
const redis = createRedis(env.REDIS_URL, { failFast: true });
redis.on("error", () => {}); // reported where a command fails
const prefix = env.EDGEPLANE_QUEUE_PREFIX;
const producer = bestEffortProducer(
  createProducer({
    connection: redis,
    prefix,
    signer: createSigner(env.EDGEPLANE_SIGNING_KEY),
    jobOptions: retryOptions(env.EDGEPLANE_JOB_ATTEMPTS, env.EDGEPLANE_JOB_BACKOFF_MS),
  }),
  { log, timeoutMs: env.EDGEPLANE_ENQUEUE_TIMEOUT_MS },
);
const dashboardQueues = Object.values(QUEUES).map((name) => {
  const queue = new Queue(name, { connection: redis, prefix });
  queue.on("error", () => {});
  return queue;
});

const app = createApp({
  services: {
    db,
    producer,
    urls: {
      scheme: env.EDGEPLANE_PUBLIC_SCHEME,
      port: env.EDGEPLANE_PUBLIC_PORT ?? env.EDGEPLANE_GATEWAY_PORT,
      httpsPort: env.EDGEPLANE_GATEWAY_HTTPS_PORT,
    },
    credentialsPublicKey: env.EDGEPLANE_CREDENTIALS_PUBLIC_KEY,
    // container logs, read from the runtime: only containers of this instance (label-checked)
    containerLogs: runtimeFromEnv(env),
  },
  adminToken: env.EDGEPLANE_ADMIN_TOKEN,
  log,
  bodyLimitBytes: env.EDGEPLANE_BODY_LIMIT_BYTES,
  wakeHoldMs: env.EDGEPLANE_WAKE_HOLD_MS,
  rateLimits: {
    limiter: redisRateLimiter({ redis, prefix, windowMs: env.EDGEPLANE_RATE_LIMIT_WINDOW_MS, log }),
    deploys: env.EDGEPLANE_RATE_LIMIT_DEPLOYS,
    webhooks: env.EDGEPLANE_RATE_LIMIT_WEBHOOKS,
  },
  dashboardQueues,
  consoleSessions: redisConsoleSessions({ redis, prefix }),
  checkReady: async () => {
    await db.execute(sql`select 1`);
    await redis.ping();
  },
});

const server = serve(
  { fetch: app.fetch, hostname: env.EDGEPLANE_API_HOST, port: env.EDGEPLANE_API_PORT },
  (info) => log.info({ address: `http://${info.address}:${info.port}` }, "api listening"),
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  const deadline = setTimeout(() => process.exit(1), 10_000);
  deadline.unref();
  server.close(async () => {
    await producer.close();
    await Promise.all(dashboardQueues.map((q) => q.close()));
    redis.disconnect();
    await closeDb();
    log.info("stopped");
    process.exit(0);
  });
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
