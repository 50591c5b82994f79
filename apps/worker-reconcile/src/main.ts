import { artifactConfig, exitOnConfigError, loadConfig, reconcileEnv } from "@edgeplane/config";
import { portRange, postgresPorts, primaryPullAuth, reconcileEnvironment } from "@edgeplane/pipeline";
import { bootWorker, QUEUES } from "@edgeplane/queue";
import { DockerRuntime, runtimeFromEnv } from "@edgeplane/runtime";

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
      return reconcileEnvironment({
        ...deps,
        runtime,
        instance: env.EDGEPLANE_INSTANCE,
        pool: { cidr: env.EDGEPLANE_NETWORK_POOL, prefix: env.EDGEPLANE_NETWORK_PREFIX },
        readyNextStart: env.EDGEPLANE_NETWORK_HOLDERS === "on",
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
