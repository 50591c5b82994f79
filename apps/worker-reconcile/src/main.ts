import { artifactConfig, exitOnConfigError, loadConfig, reconcileEnv } from "@edgeplane/config";
import {
  portRange,
  postgresPorts,
  primaryPullAuth,
  reconcileEnvironment,
  refillSparesWhenQuiet,
} from "@edgeplane/pipeline";
import { bootWorker, QUEUES } from "@edgeplane/queue";
import { DockerRuntime, runtimeFromEnv } from "@edgeplane/runtime";

/** How long after start-up the first spare networks are made: `up` waits for nothing of theirs. */
const SPARES_AFTER_BOOT_MS = 5000;

try {
  const env = loadConfig(reconcileEnv);
  const artifact = artifactConfig(env);
  const watching = new AbortController();
  await bootWorker({
    name: "worker-reconcile",
    queue: QUEUES.reconcile,
    env,
    closers: [async () => watching.abort()],
    setup: async (deps) => {
      const runtime = runtimeFromEnv(env, postgresPorts(deps.db, portRange(env.EDGEPLANE_SWARM_PORT_RANGE)));
      await runtime.ping();
      if (runtime instanceof DockerRuntime) {
        // containers that joined a network holder, started again when an engine restart got the order wrong
        void runtime.keepJoinedRunning(watching.signal, (error) =>
          deps.log.debug({ err: error.message }, "engine events: reconnecting"),
        );
      }
      const pool = { cidr: env.EDGEPLANE_NETWORK_POOL, prefix: env.EDGEPLANE_NETWORK_PREFIX };
      const holders = env.EDGEPLANE_NETWORK_HOLDERS === "on";
      const spares = holders ? env.EDGEPLANE_NETWORK_SPARES : 0;
      // spare networks for new environments, made once the start-up's own work is done
      refillSparesWhenQuiet(
        { ...deps, runtime, instance: env.EDGEPLANE_INSTANCE, pool },
        spares,
        SPARES_AFTER_BOOT_MS,
        (error) => deps.log.info({ err: error.message }, "spare networks not made"),
      );
      return reconcileEnvironment({
        ...deps,
        runtime,
        instance: env.EDGEPLANE_INSTANCE,
        pool,
        readyNextStart: holders,
        spares,
        healthTimeoutMs: env.EDGEPLANE_HEALTH_TIMEOUT_MS,
        edge: artifact.edge,
        pullAuth: primaryPullAuth(artifact),
        urls: {
          scheme: env.EDGEPLANE_PUBLIC_SCHEME,
          port: env.EDGEPLANE_PUBLIC_PORT ?? env.EDGEPLANE_GATEWAY_PORT,
          httpsPort: env.EDGEPLANE_GATEWAY_HTTPS_PORT,
        },
      });
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
