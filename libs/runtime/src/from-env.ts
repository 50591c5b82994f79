import { DockerRuntime } from "./docker/runtime.ts";
import { SwarmRuntime } from "./swarm/runtime.ts";
import type { PortAllocator, Runtime } from "./types.ts";

/** The runtime the configuration names: the Docker host next to edgeplane, or a Swarm through a manager. */
export function runtimeFromEnv(
  env: {
    EDGEPLANE_RUNTIME: "docker" | "swarm";
    DOCKER_SOCKET: string;
    DOCKER_HOST?: string | undefined;
    EDGEPLANE_INSTANCE: string;
    EDGEPLANE_DOCKER_TIMEOUT_MS?: number;
    EDGEPLANE_SWARM_RESERVATION_PERCENT?: number;
  },
  ports?: PortAllocator,
): Runtime {
  // with DOCKER_HOST set, the client reads it (and the TLS variables) as the docker CLI does
  const options = {
    socketPath: env.DOCKER_HOST ? undefined : env.DOCKER_SOCKET,
    instance: env.EDGEPLANE_INSTANCE,
    ...(env.EDGEPLANE_DOCKER_TIMEOUT_MS === undefined ? {} : { timeoutMs: env.EDGEPLANE_DOCKER_TIMEOUT_MS }),
  };
  return env.EDGEPLANE_RUNTIME === "swarm"
    ? new SwarmRuntime({
        ...options,
        ...(ports ? { ports } : {}),
        ...(env.EDGEPLANE_SWARM_RESERVATION_PERCENT === undefined
          ? {}
          : { reservationPercent: env.EDGEPLANE_SWARM_RESERVATION_PERCENT }),
      })
    : new DockerRuntime(options);
}
