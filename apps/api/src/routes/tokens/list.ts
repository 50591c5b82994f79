import { listTokens } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { json, tokenSchema } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/tokens",
  operationId: "listTokens",
  tags: ["tokens"],
  summary: "List tokens",
  description: "Never a token's plaintext or hash.",
  ...access("admin"),
  responses: {
    200: json("The tokens, oldest first", z.object({ tokens: z.array(tokenSchema) })),
    ...errorResponses("unauthorized", "forbidden"),
  },
});

export function registerListTokens(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const tokens = await listTokens({ ctx: deps.services, principal: c.get("principal") });
    return c.json({ tokens }, 200);
  });
}
