import { listEnvironments } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { projectParams } from "../../openapi/params.ts";
import { environmentSchema, json } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/projects/{project}/environments",
  operationId: "listEnvironments",
  tags: ["environments"],
  summary: "List a project's environments",
  ...access("read", { perProject: true }),
  request: {
    params: projectParams,
    query: z.object({
      include: z.string().optional().meta({
        description: "`destroyed` lists destroyed environments too; any other value is ignored",
        example: "destroyed",
      }),
    }),
  },
  responses: {
    200: json("The environments, by name", z.object({ environments: z.array(environmentSchema) })),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerListEnvironments(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const { project } = c.req.valid("param");
    const includeDestroyed = c.req.valid("query").include === "destroyed";
    const environments = await listEnvironments({
      ctx: deps.services,
      principal: c.get("principal"),
      input: { project, includeDestroyed },
    });
    return c.json({ environments }, 200);
  });
}
