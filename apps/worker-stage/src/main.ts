import { exitOnConfigError, loadConfig, stageEnv } from "@edgeplane/config";
import { QUEUES } from "@edgeplane/queue";
import { RegistryClient } from "@edgeplane/registry";
import { DockerRuntime } from "@edgeplane/runtime";
import { bootWorker, stageImage } from "@edgeplane/services";

try {
  const env = loadConfig(stageEnv);
  await bootWorker({
    name: "worker-stage",
    queue: QUEUES.stage,
    env,
    setup: async (deps) => {
      const runtime = new DockerRuntime({ socketPath: env.DOCKER_SOCKET, instance: env.EDGEPLANE_INSTANCE });
      await runtime.ping();
      return stageImage({ ...deps, runtime, registry: new RegistryClient() });
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
