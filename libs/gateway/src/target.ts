import type { ApplyResult } from "./nginx.ts";
import type { Route } from "./route.ts";
import type { GatewayExtras } from "./sites.ts";

/** What the ingress worker drives: the nginx gateway, or anything that renders the same input. */
export interface GatewayTarget {
  /** Renders, validates, installs and reloads; resolves once the new config is served. */
  apply(routes: Route[], extras?: GatewayExtras): Promise<ApplyResult>;
  /** Whether it presents certificates (given with each apply); without it the gateway serves HTTP only. */
  readonly presentsCertificates?: boolean;
}
