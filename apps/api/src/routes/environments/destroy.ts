import { destroyEnvironment } from "@edgeplane/services";
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { environmentParams } from "../../openapi/params.ts";
import { environmentSchema, json } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "delete",
  path: "/v1/projects/{project}/environments/{environment}",
  operationId: "destroyEnvironment",
  tags: ["environments"],
  summary: "Destroy an environment",
  description:
    "Records the intent and enqueues the teardown of its container and route; answers 202. Destroying twice is harmless.",
  ...access("deploy", { perProject: true }),
  request: { params: environmentParams },
  responses: {
    202: json("The environment, destroying", environmentSchema),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerDestroyEnvironment(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("param");
    const env = await destroyEnvironment({ ctx: deps.services, principal: c.get("principal"), input });
    return c.json(env, 202);
  });
}
