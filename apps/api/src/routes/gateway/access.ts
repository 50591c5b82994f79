import { hostFromHeader } from "@edgeplane/domain";
import { bypassTokenValid, gatewayAccess } from "@edgeplane/services";
import { getCookie } from "hono/cookie";
import type { ApiApp, ApiDeps } from "../../context.ts";

/**
 * What the gateway asks before serving a protected host (nginx `auth_request`): 204 to let the
 * request through, 401 with a Basic challenge otherwise. And the bypass link: `?edgeplane_bypass=`
 * with the project's token sets a cookie and redirects to the same URL without it. No token: the
 * gateway asks on behalf of anyone, and the answer says only whether this request may pass.
 */
export function registerGatewayAccess(app: ApiApp, deps: ApiDeps) {
  app.get("/gateway/access", async (c) => {
    const host = hostFromHeader(c.req.header("host"));
    if (!host) return c.body(null, 401, { "www-authenticate": 'Basic realm="edgeplane", charset="UTF-8"' });
    const decision = await gatewayAccess({
      db: deps.services.db,
      input: {
        host,
        authorization: c.req.header("authorization"),
        bypass: c.req.header("x-edgeplane-bypass"),
        bypassCookie: getCookie(c, "edgeplane_bypass"),
      },
    });
    if (decision.allowed) return c.body(null, 204);
    return c.body(null, 401, {
      "www-authenticate": `Basic realm=${JSON.stringify(decision.realm)}, charset="UTF-8"`,
    });
  });

  app.get("/gateway/bypass", async (c) => {
    const host = hostFromHeader(c.req.header("host"));
    const original = new URL(c.req.header("x-original-uri") ?? "/", "http://gateway.invalid");
    const token = original.searchParams.get("edgeplane_bypass") ?? "";
    original.searchParams.delete("edgeplane_bypass");
    if (!host || !(await bypassTokenValid({ db: deps.services.db, input: { host, token } })))
      return c.text("invalid bypass token\n", 403);
    const secure = c.req.header("x-forwarded-proto") === "https" ? "; Secure" : "";
    return c.body(null, 302, {
      location: `${original.pathname}${original.search}`,
      "set-cookie": `edgeplane_bypass=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax${secure}`,
      "cache-control": "no-store",
    });
  });
}
