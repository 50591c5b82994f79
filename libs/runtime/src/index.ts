export { DockerRuntime } from "./docker/runtime.ts";
export { waitHealthy } from "./health.ts";
export { LABELS, labelsFor } from "./labels.ts";
export { type ContainerSpec, type ManagedContainer, type PullAuth, type Runtime } from "./types.ts";
