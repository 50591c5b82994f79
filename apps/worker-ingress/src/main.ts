import { resolve } from "node:path";
import { exitOnConfigError, ingressEnv, loadConfig } from "@edgeplane/config";
import { NginxGateway } from "@edgeplane/gateway";
import { QUEUES } from "@edgeplane/queue";
import { bootWorker, routeEnvironment, syncGateway, watchGateway } from "@edgeplane/services";

try {
  const env = loadConfig(ingressEnv);
  await bootWorker({
    name: "worker-ingress",
    queue: QUEUES.ingress,
    // one render at a time keeps reloads orderly; the advisory lock covers other processes
    env: { ...env, EDGEPLANE_WORKER_CONCURRENCY: 1 },
    setup: async (deps) => {
      const nginx = new NginxGateway({
        dir: resolve(env.EDGEPLANE_GATEWAY_DIR),
        listenHost: env.EDGEPLANE_GATEWAY_HOST,
        listenPort: env.EDGEPLANE_GATEWAY_PORT,
        nginxBin: env.EDGEPLANE_NGINX_BIN,
      });
      await nginx.prepare();
      // drift repair: a config changed on disk is rendered again from state within the interval
      const { gateway, check } = watchGateway(nginx, deps.log);
      let checking = false;
      setInterval(() => {
        if (checking) return;
        checking = true;
        check(() => syncGateway({ ...deps, gateway }))
          .catch((error: Error) => deps.log.warn({ err: error.message }, "gateway drift check failed"))
          .finally(() => {
            checking = false;
          });
      }, env.EDGEPLANE_RESYNC_INTERVAL_MS).unref();
      // boot resync: the config on disk is re-rendered from state, whatever happened to it
      const { routes, drained } = await syncGateway({ ...deps, gateway });
      await drained;
      deps.log.info({ routes }, "gateway config rendered from state");
      return routeEnvironment({ ...deps, gateway });
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
