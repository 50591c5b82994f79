import { artifactConfig, exitOnConfigError, loadConfig, reconcileEnv } from "@edgeplane/config";
import { portRange, postgresPorts, primaryPullAuth, reconcileEnvironment } from "@edgeplane/pipeline";
import { bootWorker, QUEUES } from "@edgeplane/queue";
import { runtimeFromEnv } from "@edgeplane/runtime";

try {
  const env = loadConfig(reconcileEnv);
  const artifact = artifactConfig(env);
  await bootWorker({
    name: "worker-reconcile",
    queue: QUEUES.reconcile,
    env,
    setup: async (deps) => {
      const runtime = runtimeFromEnv(env, postgresPorts(deps.db, portRange(env.EDGEPLANE_SWARM_PORT_RANGE)));
      await runtime.ping();
      return reconcileEnvironment({
        ...deps,
        runtime,
        instance: env.EDGEPLANE_INSTANCE,
        pool: { cidr: env.EDGEPLANE_NETWORK_POOL, prefix: env.EDGEPLANE_NETWORK_PREFIX },
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
