export { freeAddress, toInt, toIp } from "./addresses.ts";
export { DockerRuntime, dockerClient } from "./docker/runtime.ts";
export { runtimeFromEnv } from "./from-env.ts";
export { waitHealthy } from "./health.ts";
export { LABELS, labelsFor, networkNameFor, volumeNameFor } from "./labels.ts";
export { SwarmRuntime, serviceName } from "./swarm/runtime.ts";
export {
  type ContainerHealthcheck,
  type ContainerSpec,
  type HealthStatus,
  type LogOptions,
  type ManagedContainer,
  type ManagedNetwork,
  type ManagedVolume,
  type NetworkSpec,
  type PortAllocator,
  type PullAuth,
  type RunOnceSpec,
  type Runtime,
  SubnetTaken,
  VolumeInUse,
  type VolumeMount,
  type VolumeSpec,
} from "./types.ts";
