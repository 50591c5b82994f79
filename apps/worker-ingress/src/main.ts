import { join, resolve } from "node:path";
import { exitOnConfigError, ingressEnv, loadConfig } from "@edgeplane/config";
import { gatewayFromEnv, watchDrift } from "@edgeplane/gateway";
import {
  ChallengeStore,
  checkIdle,
  GATEWAY_CHANNEL,
  maintainCertificates,
  routeEnvironment,
  syncGateway,
} from "@edgeplane/pipeline";
import { bootWorker, QUEUES, runScheduledWorker } from "@edgeplane/queue";

try {
  const env = loadConfig(ingressEnv);
  const gateway = gatewayFromEnv(env);
  // ACME HTTP-01 answers being presented: every render in this process serves them
  const challenges = new ChallengeStore();
  await bootWorker({
    name: "worker-ingress",
    queue: QUEUES.ingress,
    // one render at a time keeps reloads orderly; the advisory lock covers other processes
    env: { ...env, EDGEPLANE_WORKER_CONCURRENCY: 1 },
    setup: async (deps) => {
      const sync = () => syncGateway({ ...deps, gateway, challenges });
      await gateway.prepare();
      // boot resync: the config on disk is re-rendered from state, whatever happened to it
      const { routes, drained } = await sync();
      await drained;
      deps.log.info({ routes }, "gateway config rendered from state");
      // drift repair: a config changed on disk is rendered again from state within the interval
      watchDrift(gateway, {
        intervalMs: env.EDGEPLANE_RESYNC_INTERVAL_MS,
        repair: sync,
        onRepair: () =>
          deps.log.warn(
            { file: gateway.paths.config },
            "gateway config changed on disk; rendering it again from state",
          ),
        onError: (error) => deps.log.warn({ err: error.message }, "gateway drift check failed"),
      });
      // a project's protection changed (the API says so on this channel): rendered again at once
      let rendering: Promise<unknown> = Promise.resolve();
      await deps.sql.listen(GATEWAY_CHANNEL, () => {
        rendering = rendering
          .then(sync)
          .catch((error: Error) => deps.log.warn({ err: error.message }, "gateway render on notice failed"));
      });
      // idleness: requests the gateway served recorded on their environments, idle ones put to sleep
      const cursor = { offset: 0 };
      let checking = false;
      setInterval(() => {
        if (checking) return;
        checking = true;
        checkIdle({ ...deps, activityLog: gateway.paths.activityLog, syncGateway: sync }, cursor)
          .catch((error: Error) => deps.log.warn({ err: error.message }, "idleness check failed"))
          .finally(() => {
            checking = false;
          });
      }, env.EDGEPLANE_SLEEP_CHECK_MS).unref();
      return routeEnvironment({ ...deps, gateway, challenges });
    },
    // certificates: missing ones issued, due ones renewed, on a schedule; failures keep the old one serving
    extraWorkers: async (deps) => {
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
            // checked at boot to be 32 bytes, base64; only this process is given it
            ...(env.EDGEPLANE_CA_KEY ? { caKey: Buffer.from(env.EDGEPLANE_CA_KEY, "base64") } : {}),
            acmeTimeoutMs: env.EDGEPLANE_ACME_TIMEOUT_MS,
            dnsTimeoutMs: env.EDGEPLANE_DNS_TIMEOUT_MS,
          });
        },
      });
      return [worker];
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
