export { DockerRuntime } from "./docker/runtime.ts";
export { waitHealthy } from "./health.ts";
export { LABELS, labelsFor, networkNameFor, volumeNameFor } from "./labels.ts";
export {
  type ContainerHealthcheck,
  type ContainerSpec,
  type HealthStatus,
  type LogOptions,
  type ManagedContainer,
  type ManagedNetwork,
  type ManagedVolume,
  type NetworkSpec,
  type PullAuth,
  type RunOnceSpec,
  type Runtime,
  SubnetTaken,
  VolumeInUse,
  type VolumeMount,
  type VolumeSpec,
} from "./types.ts";
