import { ACME_CHALLENGE_PATH, type TlsContext } from "./sites.ts";

/** What a host no environment or project serves is answered, with 404. */
export const NOT_FOUND_BODY = "no environment serves this host\n";

/**
 * What serves a request: one named location each, chosen per listener by a map of the request's host
 * (`location / { error_page 418 = $edgeplane_http; return 418; }` jumps to it). A server block holds
 * each handler once, however many hosts use it.
 */
export const HANDLERS = [
  "upstream",
  "upstream_protected",
  "waker",
  "waker_protected",
  "status",
  "status_protected",
  "to_https",
  "unknown",
] as const;
export type Handler = (typeof HANDLERS)[number];

export const handlerLocation = (handler: Handler) => `@${handler}`;

/** The handler for an environment's host. */
export function environmentHandler(route: { protect?: boolean; sleeping?: boolean }): Handler {
  const base = route.sleeping ? "waker" : "upstream";
  return route.protect ? `${base}_protected` : base;
}

export const statusHandler = (protect: boolean | undefined): Handler =>
  protect ? "status_protected" : "status";

export const isProtected = (handler: Handler) => handler.endsWith("_protected");

/** Requests an environment's own host served (proxied or woken): its activity, for sleep detection. */
export const servesEnvironment = (handler: Handler) =>
  handler.startsWith("upstream") || handler.startsWith("waker");

/** The variable holding a host's upstream address (`ip:port`), by map: no resolver needed. */
export const UPSTREAM_VARIABLE = "$edgeplane_upstream";

/**
 * In a protected host's handler: a bypass link (`?edgeplane_bypass=`) goes to the control plane,
 * which sets the cookie and redirects without it; every other request is let through only once the
 * control plane said yes (`auth_request`), else answered 401 with its Basic challenge (which
 * `auth_request` passes on).
 */
const protectDirectives = `      if ($arg_edgeplane_bypass) {
        rewrite ^ /.edgeplane/bypass last;
      }
      auth_request /.edgeplane/access;
`;

/**
 * The locations protected handlers rely on. Exact paths, so a host that is not protected keeps them:
 * a request from outside lands on `internal`, whose 404 goes on to the host's own handler
 * (`reserved`: `@reserved`, a plain 404, for a protected host, as before).
 */
function protectLocations(control: string, reserved: string): string {
  const ask = (path: string) => `      internal;
      error_page 404 = ${reserved};
      proxy_pass http://${control}${path};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Original-URI $request_uri;
`;
  return `    location = /.edgeplane/access {
${ask("/gateway/access")}    }
    location = /.edgeplane/bypass {
${ask("/gateway/bypass")}    }
`;
}

function handlerBody(handler: Handler, ctx: TlsContext): string {
  const control = ctx.control ?? "";
  const protect = isProtected(handler) ? protectDirectives : "";
  switch (handler) {
    case "upstream":
    case "upstream_protected":
      return `${protect}      proxy_pass http://${UPSTREAM_VARIABLE};\n`;
    case "waker":
    case "waker_protected":
      // the waker takes the original path after its own prefix
      return `${protect}      rewrite ^ /gateway/wake$uri break;
      proxy_pass http://${control};
      proxy_read_timeout 120s;
`;
    case "status":
    case "status_protected":
      return `${protect}      rewrite ^ /pages/status break;
      proxy_pass http://${control};
`;
    case "to_https": {
      const port = ctx.httpsPort === 443 ? "" : `:${ctx.httpsPort}`;
      return `      return 308 https://$host${port}$request_uri;\n`;
    }
    case "unknown":
      return `      return 404 ${JSON.stringify(NOT_FOUND_BODY)};\n`;
  }
}

/**
 * A server's locations: `/` jumps to the handler `select` names; the ACME path (`acme`: the variable
 * naming `@acme` for hosts under a site, else the host's handler) answers HTTP-01 challenges; the
 * protection locations when a handler needs them; then each handler used, once.
 */
export function serverLocations(
  ctx: TlsContext,
  select: { handler: string; reserved: string; acme?: string },
  handlers: ReadonlySet<Handler>,
): string {
  const used = HANDLERS.filter((h) => handlers.has(h));
  const acme =
    select.acme === undefined
      ? ""
      : `    location ^~ ${ACME_CHALLENGE_PATH} {
      error_page 418 = ${select.acme};
      return 418;
    }
    location @acme {
      default_type text/plain;
      if ($edgeplane_acme_answer = "") {
        return 404;
      }
      return 200 $edgeplane_acme_answer;
    }
`;
  const protect = used.some(isProtected)
    ? `${protectLocations(ctx.control ?? "", select.reserved)}    location @reserved {
      return 404;
    }
`
    : "";
  return `${acme}${protect}    location / {
      error_page 418 = ${select.handler};
      return 418;
    }
${used.map((h) => `    location ${handlerLocation(h)} {\n${handlerBody(h, ctx)}    }\n`).join("")}`;
}
