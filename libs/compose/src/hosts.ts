import type { ComposeApp } from "./types.ts";

/** The variable holding a service's public URL: `api-v2` → `EDGEPLANE_URL_API_V2`. */
export function urlVariable(service: string): string {
  return `EDGEPLANE_URL_${service.toUpperCase().replaceAll("-", "_")}`;
}

/**
 * The variables edgeplane gives an app's environment values at deploy time: `EDGEPLANE_ENVIRONMENT`
 * (the environment's name), `EDGEPLANE_URL` (its public URL) and `EDGEPLANE_URL_<SERVICE>` for each
 * service with a port, in file order. Nothing else is substituted.
 */
export function edgeplaneVariables(app: ComposeApp): string[] {
  const withPort = app.services.filter((service) => service.port !== null);
  return ["EDGEPLANE_ENVIRONMENT", "EDGEPLANE_URL", ...withPort.map((service) => urlVariable(service.name))];
}
