/** Every container edgeplane creates carries these; edgeplane never touches one that lacks them. */
export const LABELS = {
  managed: "edgeplane.managed",
  instance: "edgeplane.instance",
  project: "edgeplane.project",
  environment: "edgeplane.environment",
  generation: "edgeplane.generation",
  deployment: "edgeplane.deployment",
} as const;

/** Label values are ids and numbers we generated; anything else is refused before it reaches Docker. */
const SAFE_VALUE = /^[a-z0-9_-]{1,64}$/;

export function labelsFor(input: {
  instance: string;
  projectId: string;
  environmentId: string;
  generation: number;
  deploymentId: string | null;
}): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managed]: "true",
    [LABELS.instance]: input.instance,
    [LABELS.project]: input.projectId,
    [LABELS.environment]: input.environmentId,
    [LABELS.generation]: String(input.generation),
  };
  if (input.deploymentId !== null) labels[LABELS.deployment] = input.deploymentId;
  for (const [key, value] of Object.entries(labels)) {
    if (key !== LABELS.managed && !SAFE_VALUE.test(value)) throw new Error(`unsafe label value for ${key}`);
  }
  return labels;
}

/** The name of an environment's private network on an edgeplane instance. */
export function networkNameFor(instance: string, environmentId: string): string {
  return `ep-${instance}-${environmentId}`;
}
