/** A compose file as edgeplane runs it: every value checked, every default filled in. */
export interface ComposeApp {
  /** In file order. */
  services: ServiceSpec[];
  /** The top-level named volumes, in file order. */
  volumes: VolumeSpec[];
  /** The first service in file order with a port: it answers on the environment's own host. Null if none has one. */
  primaryService: string | null;
}

export type DependencyCondition = "service_started" | "service_healthy" | "service_completed_successfully";

export interface Dependency {
  service: string;
  condition: DependencyCondition;
}

export interface Healthcheck {
  /** Docker's form: `["CMD", program, ...args]` or `["CMD-SHELL", line]`. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface Mount {
  /** A top-level volume of the file. */
  volume: string;
  /** An absolute path in the container. */
  target: string;
  readOnly: boolean;
}

export interface ResourceLimits {
  /** Whole MiB, rounded up. */
  memoryMb: number | null;
  /** Thousandths of a CPU. */
  cpuMillis: number | null;
}

export interface ServiceSpec {
  /** A DNS label without "--": hostnames are `{service}--{environment}`. */
  name: string;
  /** Null when the file gives none: the deploy request must then give it. */
  image: string | null;
  command: string[] | null;
  entrypoint: string[] | null;
  /** Values as written, variables not yet substituted: see `interpolate` and `edgeplaneVariables`. */
  environment: Record<string, string>;
  /**
   * The container port the gateway routes to: the container side of the first `ports` entry, or
   * else the first `expose` entry. Host-side parts of `ports` are ignored: nothing is published on
   * the host, the gateway routes every request.
   */
  port: number | null;
  /** Null when the file gives none or disables it. */
  healthcheck: Healthcheck | null;
  dependsOn: Dependency[];
  volumes: Mount[];
  limits: ResourceLimits;
  /** A task that runs to completion (migrations): another service waits for it to finish successfully. */
  oneShot: boolean;
  /** An absolute path, or null for the image's. */
  workingDir: string | null;
  /** `user`, `user:group`, `uid` or `uid:gid`, or null for the image's. */
  user: string | null;
}

export interface VolumeSpec {
  /** Lowercase letters, digits, '_', '.' and '-', 1 to 63 characters, starting with a letter or digit. */
  name: string;
  /** The environment (e.g. `staging`) whose copy of this volume a new environment starts from; null starts empty. */
  seedFrom: string | null;
}
