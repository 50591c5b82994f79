import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { json } from "../../openapi/schemas.ts";
import { BEARER } from "../../openapi/security.ts";

export const DOCUMENT_PATH = "/v1/openapi.json";

const route = createRoute({
  method: "get",
  path: DOCUMENT_PATH,
  operationId: "getOpenApiDocument",
  tags: ["operations"],
  summary: "This document",
  description: "No token needed: it is the API's contract and holds no data.",
  security: [],
  responses: {
    200: json("The OpenAPI 3.1 document", z.record(z.string(), z.unknown())),
    ...errorResponses(),
  },
});

/**
 * Serves the OpenAPI 3.1 document, built from the routes' own definitions when asked for, so it
 * covers every route registered before or after this one. Public, unlike the rest of /v1: it is
 * the API's contract and holds no data, and a client generator or the /docs page must be able to
 * read it before it has a token. Registered before the /v1 token check for that reason.
 */
export function registerOpenApiDocument(app: ApiApp) {
  app.openAPIRegistry.registerComponent("securitySchemes", BEARER, {
    type: "http",
    scheme: "bearer",
    description: "The admin token, or a token made with POST /v1/tokens",
  });
  app.openapi(route, (c) =>
    c.json(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "edgeplane API",
          version: "1",
          description:
            "The control plane of edgeplane's preview environments. Every error answers `{ error: { code, message, requestId } }`, the code from a closed set.",
        },
      }),
      200,
    ),
  );
}
