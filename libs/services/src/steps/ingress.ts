import type { Db } from "@edgeplane/db";
import type { Route } from "@edgeplane/gateway";
import { type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { enqueueNotify } from "../github/notify.ts";
import { withAdvisoryLock } from "../pipeline/lock.ts";
import type { WorkerDeps } from "../pipeline/boot.ts";
import { loadJobState, markPhase, routableEnvironments, updateEnvironmentAt } from "../pipeline/state.ts";
import { runStep } from "../pipeline/step.ts";

export interface IngressDeps extends WorkerDeps {
  gateway: { apply(routes: Route[]): Promise<void> };
}

/** Renders the gateway's whole config from Postgres and applies it (validated, atomic, reloaded). */
export async function syncGateway(deps: Pick<IngressDeps, "db" | "sql" | "gateway">): Promise<number> {
  return withAdvisoryLock(deps.sql, "gateway-render", async () => {
    const routes = await currentRoutes(deps.db);
    await deps.gateway.apply(routes);
    return routes.length;
  });
}

async function currentRoutes(db: Db): Promise<Route[]> {
  const rows = await routableEnvironments(db);
  return rows.flatMap((r) => (r.port ? [{ hostname: r.hostname, upstreamPort: r.port, environmentId: r.id }] : []));
}

/**
 * ingress: point the gateway at the environment's newest healthy container (or drop its route when
 * it is being destroyed). Once the reload has taken effect the deployment is `ready`, and a
 * reconcile is enqueued to remove the container that no longer receives traffic.
 */
export function routeEnvironment(deps: IngressDeps) {
  return (ctx: JobContext) =>
    runStep(deps, ctx, async () => {
      const { envelope, log } = ctx;
      const count = await syncGateway(deps);
      const { env, superseded } = await loadJobState(deps.db, envelope);
      if (superseded) return;
      if (env.status === "destroying") {
        if (env.observedContainerId) return; // containers not yet gone: reconcile will call again
        await updateEnvironmentAt(deps.db, envelope, {
          status: "destroyed",
          destroyedAt: new Date(),
          routedContainerId: null,
          routedHostPort: null,
        });
        log.info({ routes: count }, "environment destroyed");
        await enqueueNotify(deps.producer, env, null, "destroyed");
        return;
      }
      if (!env.observedContainerId) return;
      const routed = await updateEnvironmentAt(deps.db, envelope, {
        routedContainerId: env.observedContainerId,
        routedHostPort: env.observedHostPort,
        status: "ready",
        readyAt: new Date(),
      });
      if (!routed) return;
      await markPhase(deps.db, envelope.deploymentId, "ready");
      await enqueueNotify(deps.producer, env, envelope.deploymentId, "ready", envelope.image);
      log.info({ routes: count, port: env.observedHostPort }, "environment ready");
      await deps.producer.enqueue(QUEUES.reconcile, envelope, jobIds.reconcile(env.id, env.generation, "prune"));
    });
}
