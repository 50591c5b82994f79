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
  containerPort: number;
  env: Record<string, string>;
  memoryBytes?: number;
  nanoCpus?: number;
  /**
   * The environment's own network and the container's fixed address on it: the gateway reaches the
   * container there, restarts included. Nothing is published on the host. Without it the container
   * has no network at all.
   */
  network?: { name: string; address: string };
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
  running: boolean;
  /** Its address on its environment's network; null without one. */
  address: string | null;
}

/** Credentials for one pull from a private registry; never logged. */
export interface PullAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** What the reconcile worker needs of a runtime; Docker today, Swarm or Kubernetes behind the same shape. */
export interface Runtime {
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
  /** Starts a stopped container of this instance again (same id, same address); idempotent. */
  resume(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  logsTail(id: string, lines: number): Promise<string>;
  /** The exit code of a container that stopped; null while it runs or when it is gone. */
  exitCode(id: string): Promise<number | null>;
}
