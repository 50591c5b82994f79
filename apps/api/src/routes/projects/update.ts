import { updateProject, updateProjectInput } from "@edgeplane/services";
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { projectParams } from "../../openapi/params.ts";
import { json, projectSchema } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";
import { jsonBody, jsonRequestBody } from "../../validate.ts";

const route = createRoute({
  method: "patch",
  path: "/v1/projects/{project}",
  operationId: "updateProject",
  tags: ["projects"],
  summary: "Change a project's settings",
  description: "Any subset of the settings; name and domain stay fixed. `tls` is replaced as a whole.",
  ...access("admin"),
  middleware: [jsonBody] as const,
  request: {
    params: projectParams,
    body: jsonRequestBody(updateProjectInput.meta({ example: { port: 8080 } })),
  },
  responses: {
    200: json("The project as changed", projectSchema),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found", "payload_too_large"),
  },
});

export function registerUpdateProject(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const { project } = c.req.valid("param");
    const changes = c.req.valid("json");
    const input = { project, changes };
    return c.json(await updateProject({ ctx: deps.services, principal: c.get("principal"), input }), 200);
  });
}
