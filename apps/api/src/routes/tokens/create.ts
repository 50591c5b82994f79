import { createToken, createTokenInput } from "@edgeplane/services";
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { createdTokenOpenApi, json } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";
import { jsonBody, jsonRequestBody } from "../../validate.ts";

const route = createRoute({
  method: "post",
  path: "/v1/tokens",
  operationId: "createToken",
  tags: ["tokens"],
  summary: "Create a token",
  description: "The answer is the only time the token is ever shown; only its hash is stored.",
  ...access("admin"),
  middleware: [jsonBody] as const,
  request: {
    body: jsonRequestBody(createTokenInput.meta({ example: { name: "ci-web", projects: ["web"] } })),
  },
  responses: {
    201: json("The token, shown this once", createdTokenOpenApi),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "conflict", "payload_too_large"),
  },
});

export function registerCreateToken(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    return c.json(await createToken({ ctx: deps.services, principal: c.get("principal"), input }), 201);
  });
}
