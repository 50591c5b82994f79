import { listProjects } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { json, projectSchema } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/projects",
  operationId: "listProjects",
  tags: ["projects"],
  summary: "List projects",
  description: "Every project for the admin; for a project token, the projects it is granted.",
  ...access(),
  responses: {
    200: json("The projects, by name", z.object({ projects: z.array(projectSchema) })),
    ...errorResponses("unauthorized"),
  },
});

export function registerListProjects(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const projects = await listProjects({ ctx: deps.services, principal: c.get("principal") });
    return c.json({ projects }, 200);
  });
}
