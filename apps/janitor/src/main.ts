import { exitOnConfigError, janitorEnv, loadConfig } from "@edgeplane/config";
import { QUEUES, runScheduledWorker } from "@edgeplane/queue";
import { DockerRuntime } from "@edgeplane/runtime";
import { bootWorker, sweep, teardownEnvironment } from "@edgeplane/services";

try {
  const env = loadConfig(janitorEnv);
  const runtime = new DockerRuntime({ socketPath: env.DOCKER_SOCKET, instance: env.EDGEPLANE_INSTANCE });
  await bootWorker({
    name: "janitor",
    queue: QUEUES.teardown,
    env,
    setup: async (deps) => {
      await runtime.ping();
      return teardownEnvironment({ ...deps, runtime });
    },
    extraWorkers: async (deps) => {
      const { worker, queue } = await runScheduledWorker({
        queue: QUEUES.sweep,
        connection: deps.connection,
        prefix: deps.prefix,
        everyMs: env.EDGEPLANE_SWEEP_INTERVAL_MS,
        log: deps.log,
        process: async () => {
          await sweep({ ...deps, runtime, stuckAfterMs: env.EDGEPLANE_TEARDOWN_STUCK_MS });
        },
      });
      await queue.close();
      return [worker];
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
