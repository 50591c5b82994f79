import { createProject, createProjectInput } from "@edgeplane/services";
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { json, projectSchema } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";
import { jsonBody, jsonRequestBody } from "../../validate.ts";

const route = createRoute({
  method: "post",
  path: "/v1/projects",
  operationId: "createProject",
  tags: ["projects"],
  summary: "Create a project",
  description: "Environment variable values and secrets are write-only: the answer names what is set.",
  ...access("admin"),
  middleware: [jsonBody] as const,
  request: {
    body: jsonRequestBody(
      createProjectInput.meta({
        example: { name: "shop", domain: "shop.preview.test", port: 3000 },
      }),
    ),
  },
  responses: {
    201: json("The project", projectSchema),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "conflict", "payload_too_large"),
  },
});

export function registerCreateProject(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    return c.json(await createProject({ ctx: deps.services, principal: c.get("principal"), input }), 201);
  });
}
