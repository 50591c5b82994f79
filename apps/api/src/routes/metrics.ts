import { authorize, createMetrics } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../context.ts";

/** Prometheus metrics (admin scope): deployments, environments, certificates, queues, refused jobs. */
export function registerMetrics(app: Hono<AppEnv>, deps: ApiDeps) {
  const registry = createMetrics({ db: deps.services.db, queues: deps.dashboardQueues ?? [] });
  app.get("/v1/metrics", async (c) => {
    authorize(c.get("principal"), "admin");
    return c.text(await registry.metrics(), 200, { "content-type": registry.contentType });
  });
}
