import { revokeToken } from "@edgeplane/services";
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { tokenParams } from "../../openapi/params.ts";
import { json, revokedTokenOpenApi } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "delete",
  path: "/v1/tokens/{id}",
  operationId: "revokeToken",
  tags: ["tokens"],
  summary: "Revoke a token",
  description: "From then on the token is answered 401. Revoking twice keeps the first time.",
  ...access("admin"),
  request: { params: tokenParams },
  responses: {
    200: json("The revoked token", revokedTokenOpenApi),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerRevokeToken(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("param");
    return c.json(await revokeToken({ ctx: deps.services, principal: c.get("principal"), input }), 200);
  });
}
