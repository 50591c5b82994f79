import { exitOnConfigError, loadConfig, reconcileEnv } from "@edgeplane/config";
import { QUEUES } from "@edgeplane/queue";
import { DockerRuntime } from "@edgeplane/runtime";
import { bootWorker, reconcileEnvironment } from "@edgeplane/services";

try {
  const env = loadConfig(reconcileEnv);
  await bootWorker({
    name: "worker-reconcile",
    queue: QUEUES.reconcile,
    env,
    setup: async (deps) => {
      const runtime = new DockerRuntime({ socketPath: env.DOCKER_SOCKET, instance: env.EDGEPLANE_INSTANCE });
      await runtime.ping();
      return reconcileEnvironment({
        ...deps,
        runtime,
        instance: env.EDGEPLANE_INSTANCE,
        healthTimeoutMs: env.EDGEPLANE_HEALTH_TIMEOUT_MS,
      });
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
