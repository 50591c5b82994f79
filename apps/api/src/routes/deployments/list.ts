import { listDeployments } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { environmentParams } from "../../openapi/params.ts";
import { deploymentSchema, json } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/projects/{project}/environments/{environment}/deployments",
  operationId: "listDeployments",
  tags: ["deployments"],
  summary: "List an environment's deployments",
  description:
    "The environment's deployment history, newest first, each with the time it entered every phase; `GET /v1/deployments/{id}` adds its events.",
  ...access("read", { perProject: true }),
  request: {
    params: environmentParams,
    query: z.object({
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(100)
        .default(20)
        .meta({ description: "How many deployments, newest first (1 to 100)", example: 20 }),
    }),
  },
  responses: {
    200: json("The deployments, newest first", z.object({ deployments: z.array(deploymentSchema) })),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerListDeployments(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const { project, environment } = c.req.valid("param");
    const { limit } = c.req.valid("query");
    const deployments = await listDeployments({
      ctx: deps.services,
      principal: c.get("principal"),
      input: { project, environment, limit },
    });
    return c.json({ deployments }, 200);
  });
}
