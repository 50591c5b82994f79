import { labelsFor } from "../labels.ts";
import type { ContainerSpec } from "../types.ts";
import { dockerHealthcheck } from "./health-status.ts";
import { volumeMounts } from "./mounts.ts";

/**
 * What starting an environment's container (or Swarm service) takes from its spec, the same on
 * one host and on a Swarm; everything that can be refused is refused here, before Docker is asked
 * anything.
 */
export function startPlan(instance: string, spec: ContainerSpec) {
  const aliases = spec.aliases ?? [];
  if (aliases.length > 0 && !spec.network) throw new Error("network aliases need a network");
  const service = spec.service === undefined ? "" : `-${spec.service}`;
  const port = spec.containerPort;
  return {
    labels: labelsFor(spec),
    mounts: volumeMounts(instance, spec.environmentId, spec.mounts ?? []),
    healthcheck: dockerHealthcheck(spec.healthcheck),
    aliases,
    name: `ep-${instance}-${spec.projectName}-${spec.environmentName}${service}-g${spec.generation}`,
    env: Object.entries({ ...spec.env, ...(port === null ? {} : { PORT: String(port) }) }).map(
      ([k, v]) => `${k}=${v}`,
    ),
  };
}
