import { getProject } from "@edgeplane/services";
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { projectParams } from "../../openapi/params.ts";
import { json, projectSchema } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/projects/{project}",
  operationId: "getProject",
  tags: ["projects"],
  summary: "Show a project",
  ...access("read", { perProject: true }),
  request: { params: projectParams },
  responses: {
    200: json("The project", projectSchema),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerGetProject(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("param");
    return c.json(await getProject({ ctx: deps.services, principal: c.get("principal"), input }), 200);
  });
}
