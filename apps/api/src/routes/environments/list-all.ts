import { ENVIRONMENT_STATUSES } from "@edgeplane/domain";
import { listAllEnvironments } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { environmentSchema, json } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

/** Environments of every project the token may read: `?status=ready` is what hosts-file lines need. */
const route = createRoute({
  method: "get",
  path: "/v1/environments",
  operationId: "listAllEnvironments",
  tags: ["environments"],
  summary: "List environments across projects",
  description:
    "Every project for the admin; for a token, the projects it may read (none without the read scope). Destroyed environments only when asked for by status.",
  ...access(),
  request: {
    query: z.object({
      status: z.enum(ENVIRONMENT_STATUSES).optional().meta({ example: "ready" }),
    }),
  },
  responses: {
    200: json("The environments, by hostname", z.object({ environments: z.array(environmentSchema) })),
    ...errorResponses("bad_request", "unauthorized"),
  },
});

export function registerListAllEnvironments(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("query");
    const environments = await listAllEnvironments({
      ctx: deps.services,
      principal: c.get("principal"),
      input,
    });
    return c.json({ environments }, 200);
  });
}
