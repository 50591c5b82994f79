export { DockerRuntime } from "./docker/runtime.ts";
export { waitHealthy } from "./health.ts";
export { LABELS, labelsFor, networkNameFor } from "./labels.ts";
export {
  type ContainerSpec,
  type ManagedContainer,
  type ManagedNetwork,
  type NetworkSpec,
  type PullAuth,
  type Runtime,
  SubnetTaken,
} from "./types.ts";
