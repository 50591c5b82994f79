import { hostFromHeader } from "@edgeplane/domain";
import { renderStatusPage } from "@edgeplane/pages";
import { hostStatus } from "@edgeplane/services";
import type { ApiApp, ApiDeps } from "../../context.ts";

/** JSON when asked for (`?format=json`, or an Accept that names JSON and not HTML), else HTML. */
function wantsJson(format: string | undefined, accept: string | undefined): boolean {
  if (format === "json") return true;
  if (format === "html") return false;
  const value = (accept ?? "").toLowerCase();
  return value.includes("application/json") && !value.includes("text/html");
}

/**
 * The page the gateway shows for a host under a project's domain that has no ready environment. No
 * token: it is what anyone asking the gateway for that host sees, and says nothing about other hosts.
 * The host is the request's Host header, which the gateway passes on as the browser sent it.
 */
export function registerStatusPage(app: ApiApp, deps: ApiDeps) {
  app.get("/pages/status", async (c) => {
    const hostname = hostFromHeader(c.req.header("host"));
    const state = hostname
      ? await hostStatus({ ctx: deps.services, input: { hostname } })
      : ({ state: "unknown", hostname: "this address" } as const);
    const page = renderStatusPage(state);
    for (const [name, value] of Object.entries(page.headers)) c.header(name, value);
    c.header("vary", "accept");
    if (wantsJson(c.req.query("format"), c.req.header("accept"))) return c.json(page.json, page.status);
    return c.html(page.html, page.status);
  });
}
