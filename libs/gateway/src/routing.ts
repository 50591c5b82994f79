import { environmentHandler, type Handler, handlerLocation, statusHandler } from "./handlers.ts";
import type { MapEntry } from "./maps.ts";
import { type Route, upstreamAddress } from "./route.ts";
import { siteOf, type TlsContext } from "./sites.ts";

/**
 * Who serves which host, as data: what the maps and server blocks are rendered from. Routes are
 * exact keys, project domains `*.{domain}` wildcards (exact names win over wildcards, the longest
 * wildcard over shorter ones, as in `server_name`).
 */
export interface RoutingTable {
  /** Plain HTTP: a route without a certificate is served, one with a certificate redirected. */
  http: MapEntry[];
  /** HTTPS: the hosts of routes and sites with a certificate. */
  https: MapEntry[];
  /** Where each awake environment's host is proxied. */
  upstreams: MapEntry[];
  /** Hosts under a project's domain: ACME HTTP-01 answers on plain HTTP. */
  acme: MapEntry[];
  /**
   * The certificate a TLS handshake presents for each name SNI may ask for: `*.{domain}` for a site's
   * hosts, exact names for routes whose certificate that wildcard does not give.
   */
  certificates: MapEntry[];
  httpHandlers: Set<Handler>;
  httpsHandlers: Set<Handler>;
}

/** `routes` validated and sorted, `ctx` validated: builds the table. */
export function routingTable(routes: Route[], ctx: TlsContext): RoutingTable {
  const table: RoutingTable = {
    http: [],
    https: [],
    upstreams: [],
    acme: [],
    certificates: [],
    httpHandlers: new Set(alwaysServed(ctx)),
    httpsHandlers: new Set(),
  };
  const serve = (certificate: string, name: string) =>
    table.certificates.push({ key: name, value: certificate });
  const add = (entries: MapEntry[], handlers: Set<Handler>, key: string, handler: Handler, note?: string) => {
    entries.push({ key, value: handlerLocation(handler), ...(note === undefined ? {} : { note }) });
    handlers.add(handler);
  };

  for (const site of ctx.sites) {
    const key = `*.${site.domain}`;
    table.acme.push({ key, value: "@acme" });
    if (site.certificate === undefined) {
      add(table.http, table.httpHandlers, key, statusHandler(site.protect));
      continue;
    }
    add(table.http, table.httpHandlers, key, "to_https");
    add(table.https, table.httpsHandlers, key, statusHandler(site.protect));
    serve(site.certificate, key);
  }

  for (const route of routes) {
    const handler = environmentHandler(route);
    if (!route.sleeping) table.upstreams.push({ key: route.hostname, value: upstreamAddress(route) });
    if (route.certificate === undefined) {
      add(table.http, table.httpHandlers, route.hostname, handler, route.environmentId);
      continue;
    }
    add(table.http, table.httpHandlers, route.hostname, "to_https", route.environmentId);
    add(table.https, table.httpsHandlers, route.hostname, handler, route.environmentId);
    // SNI finds the host's certificate by its site's wildcard when that gives the same one; else by name
    if (siteOf(ctx, route.hostname)?.certificate !== route.certificate)
      serve(route.certificate, route.hostname);
  }
  if (table.certificates.length > 0)
    for (const handler of alwaysServed(ctx)) table.httpsHandlers.add(handler);
  return table;
}

/**
 * The handlers a listener has whatever its hosts: the config's structure then stays the same as
 * environments come and go (the first one routed, the last one gone), and a route change is only
 * new map entries, which need no `nginx -t` (see NginxGateway). The protected ones come with their
 * paths (`/.edgeplane/…`), so only when a host needs them.
 */
function alwaysServed(ctx: TlsContext): Handler[] {
  return ctx.control === null ? ["unknown", "upstream"] : ["unknown", "upstream", "status", "waker"];
}
