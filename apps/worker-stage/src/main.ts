import { artifactConfig, exitOnConfigError, loadConfig, stageEnv } from "@edgeplane/config";
import { primaryPullAuth, stageImage } from "@edgeplane/pipeline";
import { bootWorker, QUEUES } from "@edgeplane/queue";
import { hostPlatform, RegistryClient } from "@edgeplane/registry";
import { runtimeFromEnv } from "@edgeplane/runtime";

try {
  const env = loadConfig(stageEnv);
  const artifact = artifactConfig(env);
  await bootWorker({
    name: "worker-stage",
    queue: QUEUES.stage,
    env,
    setup: async (deps) => {
      const runtime = runtimeFromEnv(env);
      await runtime.ping();
      // the configured credentials are presented to the primary registry only
      const registry = new RegistryClient({
        insecure: artifact.insecure,
        credentials: (host) => (host === artifact.primary ? (artifact.credentials ?? undefined) : undefined),
        timeoutMs: env.EDGEPLANE_REGISTRY_TIMEOUT_MS,
        // what registries answered stays in the logs; deployments get a generic message
        log: (fields, message) => deps.log.warn(fields, message),
      });
      return stageImage({
        ...deps,
        runtime,
        registry,
        edge: artifact.edge,
        waitForImageMs: env.EDGEPLANE_STAGE_WAIT_MS,
        platform: hostPlatform(),
        pullAuth: primaryPullAuth(artifact),
        credentialsKey: env.EDGEPLANE_CREDENTIALS_KEY,
        instance: env.EDGEPLANE_INSTANCE,
        pool: { cidr: env.EDGEPLANE_NETWORK_POOL, prefix: env.EDGEPLANE_NETWORK_PREFIX },
      });
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
