import { join, resolve } from "node:path";
import { exitOnConfigError, ingressEnv, loadConfig } from "@edgeplane/config";
import { gatewayFromEnv } from "@edgeplane/gateway";
import { QUEUES, runScheduledWorker } from "@edgeplane/queue";
import {
  bootWorker,
  ChallengeStore,
  type GatewayTarget,
  maintainCertificates,
  routeEnvironment,
  syncGateway,
  watchGateway,
} from "@edgeplane/services";

try {
  const env = loadConfig(ingressEnv);
  // ACME HTTP-01 answers being presented: every render in this process serves them
  const challenges = new ChallengeStore();
  let applied: GatewayTarget | undefined;
  await bootWorker({
    name: "worker-ingress",
    queue: QUEUES.ingress,
    // one render at a time keeps reloads orderly; the advisory lock covers other processes
    env: { ...env, EDGEPLANE_WORKER_CONCURRENCY: 1 },
    setup: async (deps) => {
      const nginx = gatewayFromEnv(env);
      await nginx.prepare();
      // drift repair: a config changed on disk is rendered again from state within the interval
      const { gateway, check } = watchGateway(nginx, deps.log);
      let checking = false;
      setInterval(() => {
        if (checking) return;
        checking = true;
        check(() => syncGateway({ ...deps, gateway, challenges }))
          .catch((error: Error) => deps.log.warn({ err: error.message }, "gateway drift check failed"))
          .finally(() => {
            checking = false;
          });
      }, env.EDGEPLANE_RESYNC_INTERVAL_MS).unref();
      // boot resync: the config on disk is re-rendered from state, whatever happened to it
      const { routes, drained } = await syncGateway({ ...deps, gateway, challenges });
      await drained;
      deps.log.info({ routes }, "gateway config rendered from state");
      applied = gateway;
      return routeEnvironment({ ...deps, gateway, challenges });
    },
    // certificates: missing ones issued, due ones renewed, on a schedule; failures keep the old one serving
    extraWorkers: async (deps) => {
      const gateway = applied;
      if (!gateway) throw new Error("gateway not set up");
      const { worker } = await runScheduledWorker({
        queue: QUEUES.certificates,
        connection: deps.connection,
        prefix: deps.prefix,
        everyMs: env.EDGEPLANE_TLS_CHECK_INTERVAL_MS,
        log: deps.log,
        process: async () => {
          await maintainCertificates({
            ...deps,
            challenges,
            syncGateway: () => syncGateway({ ...deps, gateway, challenges }),
            accountDir: join(resolve(env.EDGEPLANE_GATEWAY_DIR), "acme"),
            renewBeforeDays: env.EDGEPLANE_TLS_RENEW_BEFORE_DAYS,
            retryAfterMs: env.EDGEPLANE_TLS_RETRY_AFTER_MS,
            localValidDays: env.EDGEPLANE_TLS_LOCAL_VALID_DAYS,
          });
        },
      });
      return [worker];
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
