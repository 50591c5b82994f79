import { localCaRoot } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { access } from "../../openapi/security.ts";

/** The local CA's root certificate (never its key), created on first use: what to trust for `local` TLS. */
const route = createRoute({
  method: "get",
  path: "/v1/ca/root",
  operationId: "getCaRoot",
  tags: ["certificates"],
  summary: "The local CA's root certificate",
  description: "PEM, created on first use; what to trust for projects with `local` TLS. Never the key.",
  ...access("read"),
  responses: {
    200: {
      description: "The root certificate",
      content: { "application/x-pem-file": { schema: z.string() } },
    },
    ...errorResponses("unauthorized", "forbidden"),
  },
});

export function registerCaRoot(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const pem = await localCaRoot({ ctx: deps.services, principal: c.get("principal") });
    c.header("content-type", "application/x-pem-file");
    return c.body(pem, 200);
  });
}
