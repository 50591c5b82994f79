/** Every queue edgeplane uses. The BullMQ prefix (EDGEPLANE_QUEUE_PREFIX) isolates instances. */
export const QUEUES = {
  stage: "stage-image",
  reconcile: "reconcile",
  ingress: "ingress",
  teardown: "teardown",
  sweep: "janitor-sweep",
  notify: "notify",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Deterministic job ids (no ':'), so a replayed request never doubles the work. */
export const jobIds = {
  stage: (deploymentId: string) => `stage-${deploymentId}`,
  reconcile: (environmentId: string, generation: number, step = "apply") =>
    `reconcile-${environmentId}-g${generation}-${step}`,
  ingress: (environmentId: string, generation: number) => `ingress-${environmentId}-g${generation}`,
  teardown: (environmentId: string, generation: number) => `teardown-${environmentId}-g${generation}`,
  notify: (environmentId: string, generation: number, state: string) => `notify-${environmentId}-g${generation}-${state}`,
};
