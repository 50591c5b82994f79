import type { Logger } from "@edgeplane/log";
import type { Principal, ServiceContext } from "@edgeplane/services";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Queue } from "bullmq";
import type { ConsoleSessions } from "./console/sessions.ts";
import type { RateLimiter } from "./rate-limit.ts";

export interface ApiDeps {
  services: ServiceContext;
  adminToken: string;
  log: Logger;
  bodyLimitBytes: number;
  checkReady: () => Promise<void>;
  /** Redis-backed limits on deploys (per token) and webhooks (per source address); absent: none. */
  rateLimits?: { limiter: RateLimiter; deploys: number; webhooks: number };
  /** How long a request for a sleeping environment is held while it wakes (then 503). */
  wakeHoldMs?: number;
  /** Queues shown by the ops dashboard at /admin/queues; absent: no dashboard. */
  dashboardQueues?: Queue[];
  /** The web console's sessions (Redis); absent: kept in this process's memory. */
  consoleSessions?: ConsoleSessions;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    principal: Principal;
  };
};

/** The API app: a Hono app whose routes also describe themselves for the OpenAPI document. */
export type ApiApp = OpenAPIHono<AppEnv>;
