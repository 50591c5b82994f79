/** Every queue edgeplane uses. The BullMQ prefix (EDGEPLANE_QUEUE_PREFIX) isolates instances. */
export const QUEUES = {
  stage: "stage-image",
  reconcile: "reconcile",
  ingress: "ingress",
  teardown: "teardown",
  sweep: "janitor-sweep",
  resync: "janitor-resync",
  notify: "notify",
  certificates: "tls-certificates",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Deterministic job ids (no ':'), so a replayed request never doubles the work. */
export const jobIds = {
  stage: (deploymentId: string) => `stage-${deploymentId}`,
  reconcile: (environmentId: string, generation: number, step = "apply") =>
    `reconcile-${environmentId}-g${generation}-${step}`,
  ingress: (environmentId: string, generation: number) => `ingress-${environmentId}-g${generation}`,
  teardown: (environmentId: string, generation: number) => `teardown-${environmentId}-g${generation}`,
  notify: (environmentId: string, generation: number, state: string) =>
    `notify-${environmentId}-g${generation}-${state}`,
};

/**
 * Work that starts a chain of its own within a generation carries a suffix, so it never collides
 * with the completed or failed job of the same step: work re-derived by the resync a time bucket
 * (`-r<bucket>`), a wake the moment of the request that woke the environment (`-w<ms>`). Each step
 * passes its own suffix on to the jobs it enqueues next, so the whole chain it starts is new work too.
 */
export const resyncSuffix = (bucket: number) => `-r${bucket}`;
export const wakeSuffix = (at: number) => `-w${at}`;

/** The suffix a job id ends with, or "" for work that came straight from a request. */
export function inheritedSuffix(jobId: string | undefined): string {
  return jobId?.match(/-[rw]\d+$/)?.[0] ?? "";
}
