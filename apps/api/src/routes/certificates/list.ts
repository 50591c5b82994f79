import { listCertificates } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { projectParams } from "../../openapi/params.ts";
import { certificateSchema, json } from "../../openapi/schemas.ts";
import { access } from "../../openapi/security.ts";

/** A project's certificates: names, validity and the last failed attempt; never key material. */
const route = createRoute({
  method: "get",
  path: "/v1/projects/{project}/certificates",
  operationId: "listCertificates",
  tags: ["certificates"],
  summary: "List a project's certificates",
  ...access("read", { perProject: true }),
  request: { params: projectParams },
  responses: {
    200: json("The certificates, by name", z.object({ certificates: z.array(certificateSchema) })),
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerListCertificates(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("param");
    const certificates = await listCertificates({ ctx: deps.services, principal: c.get("principal"), input });
    return c.json({ certificates }, 200);
  });
}
