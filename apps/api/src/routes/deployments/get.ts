import { getDeployment } from "@edgeplane/services";
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { deploymentParams } from "../../openapi/params.ts";
import { deploymentDetailOpenApi, json } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/deployments/{id}",
  operationId: "getDeployment",
  tags: ["deployments"],
  summary: "Show a deployment with its events",
  ...access("read", { perProject: true }),
  request: { params: deploymentParams },
  responses: {
    200: json("The deployment", deploymentDetailOpenApi),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerGetDeployment(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("param");
    return c.json(await getDeployment({ ctx: deps.services, principal: c.get("principal"), input }), 200);
  });
}
