import { exitOnConfigError, janitorEnv, loadConfig } from "@edgeplane/config";
import { portRange, postgresPorts, resync, sweep, teardownEnvironment } from "@edgeplane/pipeline";
import { bootWorker, createLiveJobs, QUEUES, runScheduledWorker, type WorkerDeps } from "@edgeplane/queue";
import { type Runtime, runtimeFromEnv } from "@edgeplane/runtime";

try {
  const env = loadConfig(janitorEnv);
  let shared: Runtime | undefined;
  // one runtime for teardown, sweep and resync; a Swarm's ports are given back in Postgres
  const runtimeOf = (db: WorkerDeps["db"]) =>
    (shared ??= runtimeFromEnv(env, postgresPorts(db, portRange(env.EDGEPLANE_SWARM_PORT_RANGE))));
  await bootWorker({
    name: "janitor",
    queue: QUEUES.teardown,
    env,
    setup: async (deps) => {
      const runtime = runtimeOf(deps.db);
      await runtime.ping();
      return teardownEnvironment({ ...deps, runtime, instance: env.EDGEPLANE_INSTANCE });
    },
    extraWorkers: async (deps) => {
      const runtime = runtimeOf(deps.db);
      const { worker } = await runScheduledWorker({
        queue: QUEUES.sweep,
        connection: deps.connection,
        prefix: deps.prefix,
        everyMs: env.EDGEPLANE_SWEEP_INTERVAL_MS,
        log: deps.log,
        process: async () => {
          await sweep({
            ...deps,
            runtime,
            instance: env.EDGEPLANE_INSTANCE,
            stuckAfterMs: env.EDGEPLANE_TEARDOWN_STUCK_MS,
            imageGraceMs: env.EDGEPLANE_IMAGE_GC_GRACE_MS,
          });
        },
      });
      // intent committed always converges: lost or missing jobs re-derived from Postgres
      const liveJobs = createLiveJobs({ connection: deps.connection, prefix: deps.prefix });
      const resyncer = await runScheduledWorker({
        queue: QUEUES.resync,
        connection: deps.connection,
        prefix: deps.prefix,
        everyMs: env.EDGEPLANE_RESYNC_INTERVAL_MS,
        log: deps.log,
        process: async () => {
          await resync({
            ...deps,
            runtime,
            liveJobs,
            intervalMs: env.EDGEPLANE_RESYNC_INTERVAL_MS,
            graceMs: env.EDGEPLANE_RESYNC_GRACE_MS,
          });
        },
      });
      resyncer.worker.on("closed", () => void liveJobs.close().catch(() => {}));
      return [worker, resyncer.worker];
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
