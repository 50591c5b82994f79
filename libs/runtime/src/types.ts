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

/** What the reconcile worker needs of a runtime; Docker today, Swarm or Kubernetes behind the same shape. */
export interface Runtime {
  ping(): Promise<void>;
  pull(image: string): Promise<void>;
  hasImage(image: string): Promise<boolean>;
  list(filter?: { environmentId?: string }): Promise<ManagedContainer[]>;
  start(spec: ContainerSpec): Promise<ManagedContainer>;
  remove(id: string): Promise<void>;
  logsTail(id: string, lines: number): Promise<string>;
}
