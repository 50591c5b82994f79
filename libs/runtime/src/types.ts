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
}

export interface ManagedContainer {
  id: string;
  name: string;
  projectId: string;
  environmentId: string;
  generation: number;
  running: boolean;
  hostPort: number | null;
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
  start(spec: ContainerSpec): Promise<ManagedContainer>;
  remove(id: string): Promise<void>;
  logsTail(id: string, lines: number): Promise<string>;
}
