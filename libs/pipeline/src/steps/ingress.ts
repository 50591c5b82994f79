import type { Db } from "@edgeplane/db";
import type { GatewayTarget, Route } from "@edgeplane/gateway";
import type { WorkerDeps } from "@edgeplane/queue";
import { inheritedSuffix, type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { enqueueNotify } from "../enqueue.ts";
import { withAdvisoryLock } from "../lock.ts";
import { loadJobState, markPhase, routableEnvironments, updateEnvironmentAt } from "../state.ts";
import { runStep } from "../step.ts";
import type { ChallengeStore } from "../tls/challenges.ts";
import { withTls } from "./gateway-state.ts";

export interface IngressDeps extends WorkerDeps {
  gateway: GatewayTarget;
  /** ACME HTTP-01 answers this process presents while it orders certificates. */
  challenges?: ChallengeStore;
}

/**
 * Renders the gateway's whole config from Postgres and applies it (validated, atomic, reloaded).
 * Resolves once the new config is served; `drained` once nothing serves the previous one.
 */
export async function syncGateway(
  deps: Pick<IngressDeps, "db" | "sql" | "gateway" | "challenges">,
): Promise<{ routes: number; drained: Promise<void> }> {
  return withAdvisoryLock(deps.sql, "gateway-render", async () => {
    // status pages, certificates and ACME answers come with the routes
    const { routes, extras } = await withTls(deps, await currentRoutes(deps.db));
    const { drained } = await deps.gateway.apply(routes, extras);
    return { routes: routes.length, drained };
  });
}

async function currentRoutes(db: Db): Promise<Route[]> {
  const rows = await routableEnvironments(db);
  return rows.flatMap((r) =>
    r.port ? [{ hostname: r.hostname, upstreamPort: r.port, environmentId: r.id }] : [],
  );
}

/**
 * ingress: point the gateway at the environment's newest healthy container (or drop its route when
 * it is being destroyed). Once the new config is served the deployment is `ready`; once the old
 * nginx workers have drained, a reconcile is enqueued to remove the container that no longer
 * receives traffic.
 */
export function routeEnvironment(deps: IngressDeps) {
  return (ctx: JobContext) =>
    runStep(deps, ctx, async () => {
      const { envelope, log } = ctx;
      const { routes: count, drained } = await syncGateway(deps);
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
      // the previous container may go only once no nginx worker can still send it a request
      await drained;
      const pruneId = `${jobIds.reconcile(env.id, env.generation, "prune")}${inheritedSuffix(ctx.job.id)}`;
      await deps.producer.enqueue(QUEUES.reconcile, envelope, pruneId);
    });
}
