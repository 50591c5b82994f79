/**
 * The artifact path is the default path: unless the operator names an edge registry or its primary,
 * `edgeplane up` runs with the pair `scripts/services.sh` starts on loopback, the edge registry
 * (`127.0.0.1:5002`, a pull-through cache) in front of the primary (`127.0.0.1:5001`), at the ports
 * that script was given (`EDGEPLANE_EDGE_REGISTRY_PORT`, `EDGEPLANE_PRIMARY_REGISTRY_PORT`).
 *
 * Only when neither variable is set at all: set to the empty string they stay so, which turns the
 * edge off (images are pulled straight from their registry); one set without the other is left for
 * the configuration check to name, never completed with a loopback guess.
 */
export function edgeDefaults(env: Record<string, string | undefined>): Record<string, string> {
  if (env.EDGEPLANE_EDGE_REGISTRY !== undefined || env.EDGEPLANE_EDGE_UPSTREAM !== undefined) return {};
  return {
    EDGEPLANE_EDGE_REGISTRY: `127.0.0.1:${env.EDGEPLANE_EDGE_REGISTRY_PORT || "5002"}`,
    EDGEPLANE_EDGE_UPSTREAM: `127.0.0.1:${env.EDGEPLANE_PRIMARY_REGISTRY_PORT || "5001"}`,
  };
}
