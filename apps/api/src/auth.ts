import { authenticate } from "@edgeplane/services";
import { createMiddleware } from "hono/factory";
import type { ApiDeps, AppEnv } from "./context.ts";

/** Every /v1 route needs a bearer token; which scope it needs is the route's business. */
export function requireToken(deps: ApiDeps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    const bearer = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    c.set("principal", await authenticate(deps.services.db, deps.adminToken, bearer));
    await next();
  });
}
