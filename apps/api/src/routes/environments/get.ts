import { getEnvironment } from "@edgeplane/services";
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { environmentParams } from "../../openapi/params.ts";
import { environmentSchema, json } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/projects/{project}/environments/{environment}",
  operationId: "getEnvironment",
  tags: ["environments"],
  summary: "Show an environment",
  ...access("read", { perProject: true }),
  request: { params: environmentParams },
  responses: {
    200: json("The environment", environmentSchema),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerGetEnvironment(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("param");
    return c.json(await getEnvironment({ ctx: deps.services, principal: c.get("principal"), input }), 200);
  });
}
