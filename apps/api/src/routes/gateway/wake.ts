import { setTimeout as sleep } from "node:timers/promises";
import { hostFromHeader } from "@edgeplane/domain";
import { wakeHost } from "@edgeplane/services";
import type { ApiApp, ApiDeps } from "../../context.ts";

/** Hop-by-hop headers (RFC 9110 7.6.1) are not passed on. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "content-length",
]);

const wakingPage = (environment: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Waking up ${environment}</title>
<style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:32rem;color:#222}</style></head>
<body><h1>Waking up ${environment}</h1><p>This preview was asleep. It is starting again; this page reloads itself.</p></body></html>
`;

/**
 * Where the gateway sends requests for a sleeping environment's hosts. The request wakes it; a
 * browser gets a page that reloads itself until it is awake, any other client is held until the
 * environment serves (then its request is passed on and answered as usual), or, past the bound,
 * answered 503 with Retry-After.
 */
export function registerWake(app: ApiApp, deps: ApiDeps, holdMs: number) {
  app.all("/gateway/wake/*", async (c) => {
    const host = hostFromHeader(c.req.header("host"));
    if (!host) return c.text("no environment serves this host\n", 404);
    let state = await wakeHost({ ctx: deps.services, input: { host } });
    if (state.state === "unknown") return c.text("no environment serves this host\n", 404);
    if (state.state === "waking" && (c.req.header("accept") ?? "").includes("text/html"))
      return c.html(wakingPage(state.environment), 503, { "retry-after": "2", "cache-control": "no-store" });
    const deadline = Date.now() + holdMs;
    while (state.state === "waking" && Date.now() < deadline) {
      await sleep(100);
      state = await wakeHost({ ctx: deps.services, input: { host } });
    }
    if (state.state !== "ready")
      return c.text("the environment is still waking up; try again\n", 503, { "retry-after": "5" });
    const url = new URL(c.req.url);
    const path = url.pathname.replace(/^\/gateway\/wake/, "") || "/";
    const headers = new Headers();
    for (const [name, value] of c.req.raw.headers)
      if (!HOP_BY_HOP.has(name) && name !== "accept-encoding") headers.set(name, value);
    const hasBody = !["GET", "HEAD"].includes(c.req.method);
    const response = await fetch(
      `http://${state.upstream.address}:${state.upstream.port}${path}${url.search}`,
      {
        method: c.req.method,
        headers,
        body: hasBody ? c.req.raw.body : undefined,
        redirect: "manual",
        // undici's option for a streamed request body
        duplex: hasBody ? "half" : undefined,
      },
    );
    const out = new Headers();
    for (const [name, value] of response.headers) if (!HOP_BY_HOP.has(name)) out.set(name, value);
    return new Response(response.body, { status: response.status, headers: out });
  });
}
