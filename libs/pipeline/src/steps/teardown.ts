import type { WorkerDeps } from "@edgeplane/queue";
import { DelayedError, inheritedSuffix, type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import type { Runtime } from "@edgeplane/runtime";
import { environmentLock } from "../lock.ts";
import { releaseEnvironmentNetwork } from "../network.ts";
import { deploymentsUnderway, updateEnvironmentAt } from "../state.ts";
import { runStep } from "../step.ts";

export interface JanitorDeps extends WorkerDeps {
  runtime: Runtime;
  instance: string;
}

/**
 * How long a teardown yields to deployments in progress, from when it was enqueued. Removing
 * containers and a network is Docker's busiest work, and on a small machine it slowed a preview
 * starting meanwhile (a pull request opened as another closed) from ~0.5 s to 0.8–2.4 s. Nobody
 * waits on a teardown that much; past this it runs regardless, so a stuck deployment holds none back.
 */
const TEARDOWN_YIELD_MS = 5_000;
/** How often a yielding teardown looks again. */
const TEARDOWN_RECHECK_MS = 150;

/**
 * teardown (janitor): remove every container, the network and the volumes of an environment being
 * destroyed, then let ingress
 * drop its route; ingress marks it `destroyed` once the gateway no longer routes to it. Until every
 * step has succeeded the row stays `destroying`, and a failed step is retried (here, or by the sweep).
 * It waits while deployments are underway (up to TEARDOWN_YIELD_MS): they go first.
 */
export function teardownEnvironment(deps: JanitorDeps) {
  return (ctx: JobContext) =>
    runStep(
      deps,
      ctx,
      async ({ env }, lock) => {
        if (env.status !== "destroying") return;
        const yielding = Date.now() - ctx.job.timestamp < TEARDOWN_YIELD_MS;
        if (yielding && ctx.token && (await deploymentsUnderway(deps.db))) {
          await ctx.job.moveToDelayed(Date.now() + TEARDOWN_RECHECK_MS, ctx.token);
          throw new DelayedError();
        }
        const containers = await deps.runtime.list({ environmentId: env.id });
        for (const c of containers) {
          lock.assertHeld();
          await deps.runtime.remove(c.id);
        }
        lock.assertHeld();
        await releaseEnvironmentNetwork(deps, env.id);
        // its volumes (a preview's database) go with it
        const volumes = await deps.runtime.listVolumes({ environmentId: env.id });
        for (const v of volumes) {
          lock.assertHeld();
          await deps.runtime.removeVolume(v.name);
        }
        await updateEnvironmentAt(deps.db, ctx.envelope, {
          observedContainerId: null,
          observedAddress: null,
          observedPort: null,
          observedServices: null,
        });
        const jobId = `${jobIds.ingress(env.id, env.generation)}${inheritedSuffix(ctx.job.id)}`;
        await deps.producer.enqueue(QUEUES.ingress, ctx.envelope, jobId);
        ctx.log.info(
          { removed: containers.length, volumes: volumes.length },
          "environment containers removed",
        );
      },
      { lock: environmentLock(ctx.envelope.environmentId) },
    );
}
