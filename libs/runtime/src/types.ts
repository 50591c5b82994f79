/** A named volume mounted into a container. */
export interface VolumeMount {
  /** The full Docker volume name (see `volumeNameFor`): one of the same environment's volumes. */
  volume: string;
  target: string;
  readOnly: boolean;
}

/** A Docker HEALTHCHECK, durations in milliseconds. */
export interface ContainerHealthcheck {
  /** As compose gives it: `["CMD", ...]` or `["CMD-SHELL", "..."]`. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

/** Docker's verdict of a container's healthcheck. */
export type HealthStatus = "starting" | "healthy" | "unhealthy";

export interface ContainerSpec {
  instance: string;
  projectId: string;
  projectName: string;
  environmentId: string;
  environmentName: string;
  deploymentId: string | null;
  generation: number;
  /** Pinned reference (`registry/repo@sha256:…`). */
  image: string;
  /** The port the service listens on (exposed, and given as PORT); null: it listens on nothing. */
  containerPort: number | null;
  env: Record<string, string>;
  memoryBytes?: number;
  nanoCpus?: number;
  /**
   * The environment's own network and the container's fixed address on it: the gateway reaches the
   * container there, restarts included. Nothing is published on the host. Without it the container
   * has no network at all. (Swarm assigns overlay addresses itself: there the address is unused, and
   * the gateway reaches the task on its node, at a published port.)
   */
  network?: { name: string; address: string };
  /** The compose service it runs (a DNS label); absent for a single-service project. */
  service?: string;
  /** Docker's Cmd; absent or null: the image's. */
  command?: string[] | null;
  /** Docker's Entrypoint; absent or null: the image's. */
  entrypoint?: string[] | null;
  /** absent or null: the image's. */
  user?: string | null;
  /** absent or null: the image's. */
  workingDir?: string | null;
  /** Names other containers on its network find it by (the service name). Needs `network`. */
  aliases?: string[];
  /** Named volumes (full Docker volume names, see volumeNameFor) mounted into it. */
  mounts?: VolumeMount[];
  /**
   * A Docker HEALTHCHECK. Absent: the image's own, if it has one; null: none at all (the image's is
   * disabled).
   */
  healthcheck?: ContainerHealthcheck | null;
  /** Runs once to completion (migrations, seeds): never restarted (RestartPolicy "no"). */
  oneShot?: boolean;
  /** What it runs, hashed by the caller: kept as label `edgeplane.config` to decide whether to replace it. */
  configHash?: string;
}

/** An environment's named volume, as edgeplane creates it. */
export interface VolumeSpec {
  instance: string;
  projectId: string;
  environmentId: string;
  /** Its name in the compose file (`[a-z0-9_.-]{1,63}`). */
  volume: string;
}

export interface ManagedVolume {
  /** The Docker volume name. */
  name: string;
  environmentId: string;
  /** Its name in the compose file. */
  volume: string;
}

/** A volume still used by a container cannot be removed. */
export class VolumeInUse extends Error {
  override name = "VolumeInUse";
}

/** A short helper container run to completion (copying or seeding volumes). */
export interface RunOnceSpec {
  instance: string;
  projectId: string;
  environmentId: string;
  image: string;
  /** Run as given: it replaces the image's entrypoint and command. */
  command: string[];
  mounts: VolumeMount[];
  /**
   * Another environment of this instance whose volumes may be mounted read-only (the source of a
   * volume copy); every other mount must be of `environmentId`.
   */
  readFromEnvironmentId?: string;
  timeoutMs: number;
  user?: string | null;
}

/** An environment's private network, as edgeplane creates it. */
export interface NetworkSpec {
  instance: string;
  projectId: string;
  environmentId: string;
  name: string;
  /** IPv4 CIDR, e.g. `10.213.0.32/27`. */
  subnet: string;
}

export interface ManagedNetwork {
  id: string;
  name: string;
  environmentId: string;
  subnet: string | null;
}

/** Another network already uses the subnet asked for (one edgeplane does not own, or another instance's). */
export class SubnetTaken extends Error {
  override name = "SubnetTaken";
}

export interface ManagedContainer {
  id: string;
  name: string;
  projectId: string;
  environmentId: string;
  generation: number;
  /** The compose service it runs; null for a single-service project's container. */
  service: string | null;
  /** The caller's hash of what it runs (label `edgeplane.config`); null without one. */
  configHash: string | null;
  /** Docker's state: "running", "exited", "created", "restarting", "paused", ... */
  state: string;
  /** `state === "running"`. */
  running: boolean;
  /** From Docker's healthcheck, when the container has one and runs; else null. */
  health: HealthStatus | null;
  /**
   * Where the control plane reaches it: its address on its environment's network (Docker), or the
   * address of the node its task runs on (Swarm); null without one (or while it has no task).
   */
  address: string | null;
  /**
   * The host port its service port is published on at `address` (Swarm, `mode: host`); null: the
   * service port itself is reached at `address` (Docker).
   */
  publishedPort: number | null;
  /** The node its task runs on (Swarm: the node's hostname); null on a single Docker host. */
  node: string | null;
}

/**
 * Host ports for a runtime that publishes services on their nodes (Swarm): one per owner (a
 * service name), never the same port to two owners while both hold it.
 */
export interface PortAllocator {
  /** The owner's port: the one it holds, or a free one taken for it now. */
  allocate(owner: string): Promise<number>;
  /** Gives the owner's port back; idempotent. */
  release(owner: string): Promise<void>;
  /** Every owner holding a port. */
  owners(): Promise<string[]>;
}

/** What `Runtime.logs` reads of a container's output. */
export interface LogOptions {
  /** Lines from the end of what it wrote so far. */
  tail: number;
  /** Keep reading what it writes from then on, until it stops or `signal` aborts. */
  follow: boolean;
  signal?: AbortSignal;
}

/** Credentials for one pull from a private registry; never logged. */
export interface PullAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** What the reconcile worker needs of a runtime: one Docker host, or a Docker Swarm. */
export interface Runtime {
  /**
   * Runtime-specific leftovers of this instance cleaned up (the Swarm's ports of services that are
   * gone); the janitor's sweep calls it after removing orphans. Resolves with how many it cleaned.
   */
  prune?(): Promise<number>;
  ping(): Promise<void>;
  pull(image: string, auth?: PullAuth): Promise<void>;
  hasImage(image: string): Promise<boolean>;
  /** The runtime's id of the image a reference names, or null if it does not have it. */
  imageId(image: string): Promise<string | null>;
  /** Ids of the images every container on the host uses (any container, not only edgeplane's). */
  imagesInUse(): Promise<Set<string>>;
  /**
   * Removes one image reference, never forcibly: `in-use` when a container still uses it,
   * `absent` when there was nothing to remove.
   */
  removeImage(image: string): Promise<"removed" | "absent" | "in-use">;
  list(filter?: { environmentId?: string }): Promise<ManagedContainer[]>;
  /** Creates the environment's network unless it exists with that subnet; throws SubnetTaken. */
  ensureNetwork(spec: NetworkSpec): Promise<ManagedNetwork>;
  /** This instance's environment networks, by label. */
  listNetworks(): Promise<ManagedNetwork[]>;
  /** Removes a network of this instance; idempotent. */
  removeNetwork(name: string): Promise<void>;
  start(spec: ContainerSpec): Promise<ManagedContainer>;
  /**
   * Readies the environment's network so that its next container (one without aliases) starts
   * faster: on one Docker host, a network holder at a free address of `subnet` (see `start`);
   * nothing elsewhere. Idempotent; best called once a deploy is routed, off its critical path.
   */
  prepareStart?(spec: {
    projectId: string;
    environmentId: string;
    network: { name: string; subnet: string };
    /** How many starts to ready (holders kept spare); default 1. */
    holders?: number;
  }): Promise<void>;
  /**
   * Starts a stopped container of this instance again (same id; on one host, the same address; a
   * Swarm may run it on another node); resolves once it runs. Idempotent.
   */
  resume(id: string): Promise<void>;
  /** Stops a container of this instance, keeping it (and its address) for `resume`; idempotent. */
  stop(id: string, timeoutSeconds?: number): Promise<void>;
  remove(id: string): Promise<void>;
  logsTail(id: string, lines: number): Promise<string>;
  /**
   * A container of this instance's output, stdout and stderr demultiplexed, in the order Docker
   * sends it: its last `tail` lines, then, with `follow`, whatever it writes until it stops or
   * `signal` aborts. Null when there is no such container; refuses one this instance does not own.
   */
  logs(id: string, options: LogOptions): Promise<AsyncIterable<Buffer> | null>;
  /** The exit code of a container that stopped; null while it runs or when it is gone. */
  exitCode(id: string): Promise<number | null>;
  /** Creates the environment's named volume unless it exists (labelled like networks, plus edgeplane.volume=<name>); `created` says whether it is new. */
  ensureVolume(spec: VolumeSpec): Promise<{ name: string; created: boolean }>;
  /** This instance's volumes, by label. */
  listVolumes(filter?: { environmentId?: string }): Promise<ManagedVolume[]>;
  /** Removes a volume of this instance (label-checked); idempotent; throws VolumeInUse while a container uses it. */
  removeVolume(name: string): Promise<void>;
  /** Freezes a container of this instance; idempotent. */
  pause(id: string): Promise<void>;
  /** Thaws a paused container of this instance; idempotent. */
  unpause(id: string): Promise<void>;
  /** Docker's health status of one container now; null without a healthcheck or when it is gone. */
  health(id: string): Promise<HealthStatus | null>;
  /**
   * Runs a short helper container to completion and removes it: no network, the same hardening as
   * `start`, labelled as the environment's (so the orphan sweep knows it), with the given volumes
   * mounted. Resolves with its exit code and the tail of its output (at most 4 KiB); rejects after
   * `timeoutMs`, the container removed.
   */
  runOnce(spec: RunOnceSpec): Promise<{ exitCode: number; output: string }>;
}
