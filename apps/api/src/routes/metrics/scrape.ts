import { createMetrics, scrapeMetrics } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/metrics",
  operationId: "scrapeMetrics",
  tags: ["operations"],
  summary: "Prometheus metrics",
  description: "Deployments, environments, certificates, queues and refused jobs, read at scrape time.",
  ...access("admin"),
  responses: {
    200: {
      description: "The Prometheus text exposition",
      content: { "text/plain": { schema: z.string() } },
    },
    ...errorResponses("unauthorized", "forbidden"),
  },
});

export function registerScrapeMetrics(app: ApiApp, deps: ApiDeps) {
  const registry = createMetrics({ db: deps.services.db, queues: deps.dashboardQueues ?? [] });
  app.openapi(route, async (c) => {
    const input = { registry };
    const { contentType, text } = await scrapeMetrics({
      ctx: deps.services,
      principal: c.get("principal"),
      input,
    });
    return c.text(text, 200, { "content-type": contentType });
  });
}
