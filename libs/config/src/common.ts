import { z } from "zod";

const port = z.coerce.number().int().min(1).max(65535);
const positiveMs = z.coerce.number().int().positive();

/** Variables every process shares: where state lives and how jobs are signed. */
export const commonEnv = z.object({
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/edgeplane"),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  EDGEPLANE_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, "lowercase letters, digits and '-' only")
    .default("edgeplane"),
  /** Labels every container and route this instance owns; two instances never touch each other's. */
  EDGEPLANE_INSTANCE: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, "lowercase letters, digits and '-' only")
    .default("default"),
  /** Ed25519 private key (PKCS#8 DER, base64) used to sign the jobs this process enqueues. */
  EDGEPLANE_SIGNING_KEY: z.string().min(1, "required: base64 PKCS#8 Ed25519 private key"),
  /** Trusted public keys, `kid=base64-spki` separated by commas. */
  EDGEPLANE_PUBLIC_KEYS: z.string().min(1, "required: kid=base64-spki[,kid=…]"),
  /** How old a signed job may be before it is refused as stale. */
  EDGEPLANE_JOB_MAX_AGE_MS: positiveMs.default(24 * 60 * 60 * 1000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type CommonEnv = z.infer<typeof commonEnv>;

/** Where the gateway listens and how URLs are shown to users. */
export const gatewayEnv = z.object({
  EDGEPLANE_GATEWAY_HOST: z.string().default("127.0.0.1"),
  EDGEPLANE_GATEWAY_PORT: port.default(8080),
  EDGEPLANE_GATEWAY_DIR: z.string().default(".edgeplane/gateway"),
  EDGEPLANE_NGINX_BIN: z.string().default("nginx"),
  /** Port shown in environment URLs; defaults to the gateway's port. */
  EDGEPLANE_PUBLIC_PORT: port.optional(),
  EDGEPLANE_PUBLIC_SCHEME: z.enum(["http", "https"]).default("http"),
});
export type GatewayEnv = z.infer<typeof gatewayEnv>;

export const apiEnv = commonEnv.extend(gatewayEnv.shape).extend({
  EDGEPLANE_API_HOST: z.string().default("127.0.0.1"),
  EDGEPLANE_API_PORT: port.default(3000),
  /** Admin bearer token. Required: a missing secret is a boot error, never an open door. */
  EDGEPLANE_ADMIN_TOKEN: z.string().min(24, "required, at least 24 characters"),
  EDGEPLANE_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(64 * 1024),
});
export type ApiEnv = z.infer<typeof apiEnv>;

export const workerEnv = commonEnv.extend({
  EDGEPLANE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  EDGEPLANE_SHUTDOWN_TIMEOUT_MS: positiveMs.default(20_000),
});
export type WorkerEnv = z.infer<typeof workerEnv>;

export const reconcileEnv = workerEnv.extend({
  DOCKER_SOCKET: z.string().default("/var/run/docker.sock"),
  EDGEPLANE_HEALTH_TIMEOUT_MS: positiveMs.default(60_000),
});
export type ReconcileEnv = z.infer<typeof reconcileEnv>;

export const stageEnv = workerEnv.extend({
  DOCKER_SOCKET: z.string().default("/var/run/docker.sock"),
});
export type StageEnv = z.infer<typeof stageEnv>;

export const ingressEnv = workerEnv.extend(gatewayEnv.shape);
export type IngressEnv = z.infer<typeof ingressEnv>;

export const janitorEnv = workerEnv.extend({
  DOCKER_SOCKET: z.string().default("/var/run/docker.sock"),
  /** How often the janitor sweeps for closed, expired, stuck and orphaned environments. */
  EDGEPLANE_SWEEP_INTERVAL_MS: positiveMs.default(60_000),
  EDGEPLANE_TEARDOWN_STUCK_MS: positiveMs.default(120_000),
});
export type JanitorEnv = z.infer<typeof janitorEnv>;

export const notifyEnv = workerEnv.extend(gatewayEnv.shape).extend({
  /** Token (or GitHub App installation token) for reporting previews; unset: reporting is off. */
  EDGEPLANE_GITHUB_TOKEN: z.string().min(1).optional(),
  /** REST root; `https://<host>/api/v3` for GitHub Enterprise Server. */
  EDGEPLANE_GITHUB_API_URL: z.string().url().default("https://api.github.com"),
});
export type NotifyEnv = z.infer<typeof notifyEnv>;
