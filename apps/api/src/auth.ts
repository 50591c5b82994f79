import { authenticate } from "@edgeplane/services";
import { createMiddleware } from "hono/factory";
import { consolePrincipal, fromConsole } from "./console/principal.ts";
import type { ApiDeps, AppEnv } from "./context.ts";

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/**
 * Every /v1 route needs a bearer token, or the web console's session cookie together with the
 * console's header (which no cross-site form can send); which scope it needs is the route's business.
 */
export function requireToken(deps: ApiDeps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const bearer = bearerToken(c.req.header("authorization"));
    c.set(
      "principal",
      bearer === undefined && fromConsole(c)
        ? await consolePrincipal(c, deps)
        : await authenticate(deps.services.db, deps.adminToken, bearer),
    );
    await next();
  });
}
