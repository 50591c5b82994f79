import { serve } from "@hono/node-server";
import { apiEnv, exitOnConfigError, loadConfig } from "@edgeplane/config";
import { createDb, sql } from "@edgeplane/db";
import { createLogger } from "@edgeplane/log";
import { createProducer, createRedis, createSigner } from "@edgeplane/queue";
import { createApp } from "./app.ts";

const env = (() => {
  try {
    return loadConfig(apiEnv);
  } catch (error) {
    return exitOnConfigError(error);
  }
})();
const log = createLogger("api", env.LOG_LEVEL);
const { db, close: closeDb } = createDb(env.DATABASE_URL);
const redis = createRedis(env.REDIS_URL);
const producer = createProducer({ connection: redis, prefix: env.EDGEPLANE_QUEUE_PREFIX, signer: createSigner(env.EDGEPLANE_SIGNING_KEY) });

const app = createApp({
  services: {
    db,
    producer,
    urls: { scheme: env.EDGEPLANE_PUBLIC_SCHEME, port: env.EDGEPLANE_PUBLIC_PORT ?? env.EDGEPLANE_GATEWAY_PORT },
  },
  adminToken: env.EDGEPLANE_ADMIN_TOKEN,
  log,
  bodyLimitBytes: env.EDGEPLANE_BODY_LIMIT_BYTES,
  checkReady: async () => {
    await db.execute(sql`select 1`);
    await redis.ping();
  },
});

const server = serve({ fetch: app.fetch, hostname: env.EDGEPLANE_API_HOST, port: env.EDGEPLANE_API_PORT }, (info) =>
  log.info({ address: `http://${info.address}:${info.port}` }, "api listening"),
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
    redis.disconnect();
    await closeDb();
    log.info("stopped");
    process.exit(0);
  });
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
