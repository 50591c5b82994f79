import { requestDeployment, requestDeploymentInput } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { deploymentSchema } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";
import { jsonBody, jsonRequestBody } from "../../validate.ts";

const route = createRoute({
  method: "post",
  path: "/v1/deployments",
  operationId: "requestDeployment",
  tags: ["deployments"],
  summary: "Deploy an image to an environment",
  description:
    "Records the intent and enqueues the deployment; answers 202 once committed. A newer deployment to the same environment supersedes this one.",
  ...access("deploy", { perProject: true }),
  middleware: [jsonBody] as const,
  request: {
    body: jsonRequestBody(
      requestDeploymentInput.meta({
        example: { project: "web", environment: "pr-42", image: "ghcr.io/acme/web:sha-1" },
      }),
    ),
  },
  responses: {
    202: {
      description: "The deployment, queued",
      headers: z.object({
        Location: z.string().meta({ description: "Where to follow the deployment" }),
      }),
      content: { "application/json": { schema: deploymentSchema } },
    },
    ...errorResponses(
      "bad_request",
      "unauthorized",
      "forbidden",
      "not_found",
      "conflict",
      "payload_too_large",
      "rate_limited",
    ),
  },
});

export function registerCreateDeployment(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const deployment = await requestDeployment({ ctx: deps.services, principal: c.get("principal"), input });
    c.header("Location", `/v1/deployments/${deployment.id}`);
    return c.json(deployment, 202);
  });
}
