import { GatewayConfigError } from "./errors.ts";
import { assertEnvironmentId, assertHostname, assertPort, assertUpstreamHost } from "./validate.ts";

/** One hostname the gateway serves for an environment. */
export interface Route {
  hostname: string;
  /** The IP address the environment is reached at (its container on its own network); default 127.0.0.1. */
  upstreamHost?: string;
  upstreamPort: number;
  environmentId: string;
  /** The name (see certificateFileName) of a certificate covering the hostname: served over HTTPS too. */
  certificate?: string;
  /** Each request asks the control plane first whether it may pass (a protected project's host). */
  protect?: boolean;
  /** The environment sleeps: requests go to the control plane, which wakes it and passes them on. */
  sleeping?: boolean;
}

function validateRoute(route: Route): void {
  assertHostname(route.hostname);
  if (route.upstreamHost !== undefined) assertUpstreamHost(route.upstreamHost);
  assertPort(route.upstreamPort, "upstream port");
  assertEnvironmentId(route.environmentId);
}

/** Why the gateway would refuse this route, or undefined: lets a caller leave one bad route out. */
export function routeProblem(route: Route): string | undefined {
  try {
    validateRoute(route);
    return undefined;
  } catch (error) {
    if (error instanceof GatewayConfigError) return error.message;
    throw error;
  }
}

/** Every route checked, no hostname twice; sorted by hostname, so the same set renders the same bytes. */
export function validateRoutes(routes: Route[]): Route[] {
  const seen = new Set<string>();
  for (const route of routes) {
    validateRoute(route);
    if (seen.has(route.hostname)) throw new GatewayConfigError(`duplicate hostname ${route.hostname}`);
    seen.add(route.hostname);
  }
  return [...routes].sort((a, b) => compare(a.hostname, b.hostname));
}

/** Code-unit order: the same on every machine, whatever its locale. */
export const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `host:port` as nginx takes it, an IPv6 address in brackets. */
export function upstreamAddress(route: Route): string {
  const host = route.upstreamHost ?? "127.0.0.1";
  return `${host.includes(":") ? `[${host}]` : host}:${route.upstreamPort}`;
}
