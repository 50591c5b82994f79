import { resolve } from "node:path";
import { exitOnConfigError, ingressEnv, loadConfig } from "@edgeplane/config";
import { NginxGateway } from "@edgeplane/gateway";
import { QUEUES } from "@edgeplane/queue";
import { bootWorker, routeEnvironment, syncGateway } from "@edgeplane/services";

try {
  const env = loadConfig(ingressEnv);
  await bootWorker({
    name: "worker-ingress",
    queue: QUEUES.ingress,
    // one render at a time keeps reloads orderly; the advisory lock covers other processes
    env: { ...env, EDGEPLANE_WORKER_CONCURRENCY: 1 },
    setup: async (deps) => {
      const gateway = new NginxGateway({
        dir: resolve(env.EDGEPLANE_GATEWAY_DIR),
        listenHost: env.EDGEPLANE_GATEWAY_HOST,
        listenPort: env.EDGEPLANE_GATEWAY_PORT,
        nginxBin: env.EDGEPLANE_NGINX_BIN,
      });
      await gateway.prepare();
      // boot resync: the config on disk is re-rendered from state, whatever happened to it
      const routes = await syncGateway({ ...deps, gateway });
      deps.log.info({ routes }, "gateway config rendered from state");
      return routeEnvironment({ ...deps, gateway });
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
