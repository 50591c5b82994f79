/** Every container, network and volume edgeplane creates carries these; edgeplane never touches one that lacks them. */
export const LABELS = {
  managed: "edgeplane.managed",
  instance: "edgeplane.instance",
  project: "edgeplane.project",
  environment: "edgeplane.environment",
  generation: "edgeplane.generation",
  deployment: "edgeplane.deployment",
  /** The compose service a container runs; absent for a single-service project. */
  service: "edgeplane.service",
  /** The caller's hash of what a container runs: a different hash means the container is replaced. */
  config: "edgeplane.config",
  /** On a volume: its name in the compose file. */
  volume: "edgeplane.volume",
} as const;

/** Label values are ids and numbers we generated; anything else is refused before it reaches Docker. */
const SAFE_VALUE = /^[a-z0-9_-]{1,64}$/;
/** A compose service name, as edgeplane accepts it: a lowercase DNS label. */
const SERVICE_NAME = /^[a-z0-9-]{1,63}$/;
/** A hex digest (or a prefix of one). */
const CONFIG_HASH = /^[a-f0-9]{1,64}$/;
/** A volume's name in a compose file. */
const VOLUME_NAME = /^[a-z0-9_.-]{1,63}$/;

export function labelsFor(input: {
  instance: string;
  projectId: string;
  environmentId: string;
  generation: number;
  deploymentId: string | null;
  service?: string | undefined;
  configHash?: string | undefined;
}): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managed]: "true",
    [LABELS.instance]: input.instance,
    [LABELS.project]: input.projectId,
    [LABELS.environment]: input.environmentId,
    [LABELS.generation]: String(input.generation),
  };
  if (input.deploymentId !== null) labels[LABELS.deployment] = input.deploymentId;
  if (input.service !== undefined) {
    if (!SERVICE_NAME.test(input.service)) throw new Error(`unsafe label value for ${LABELS.service}`);
    labels[LABELS.service] = input.service;
  }
  if (input.configHash !== undefined) {
    if (!CONFIG_HASH.test(input.configHash)) throw new Error(`unsafe label value for ${LABELS.config}`);
    labels[LABELS.config] = input.configHash;
  }
  for (const [key, value] of Object.entries(labels)) {
    if (key !== LABELS.managed && !SAFE_VALUE.test(value)) throw new Error(`unsafe label value for ${key}`);
  }
  return labels;
}

/** The labels of an environment's named volume: an environment network's, plus the volume's compose name. */
export function volumeLabelsFor(input: {
  instance: string;
  projectId: string;
  environmentId: string;
  volume: string;
}): Record<string, string> {
  if (!VOLUME_NAME.test(input.volume)) throw new Error(`unsafe label value for ${LABELS.volume}`);
  return {
    ...labelsFor({ ...input, generation: 0, deploymentId: null }),
    [LABELS.volume]: input.volume,
  };
}

/** The name of an environment's private network on an edgeplane instance. */
export function networkNameFor(instance: string, environmentId: string): string {
  return `ep-${instance}-${environmentId}`;
}

/** The Docker name of an environment's named volume `volume` (its compose name) on an edgeplane instance. */
export function volumeNameFor(instance: string, environmentId: string, volume: string): string {
  if (!VOLUME_NAME.test(volume)) throw new Error(`invalid volume name ${JSON.stringify(volume)}`);
  return `${volumePrefixFor(instance, environmentId)}${volume}`;
}

/** What every volume name of one environment on an edgeplane instance starts with. */
export function volumePrefixFor(instance: string, environmentId: string): string {
  return `ep-${instance}-${environmentId}-`;
}

/** Whether `name` is a volume name of that environment on that instance (by its form alone). */
export function isVolumeNameOf(name: string, instance: string, environmentId: string): boolean {
  const prefix = volumePrefixFor(instance, environmentId);
  return name.startsWith(prefix) && VOLUME_NAME.test(name.slice(prefix.length));
}
