import type { GatewayTarget, Route } from "@edgeplane/gateway";
import type { WorkerDeps } from "@edgeplane/queue";
import { inheritedSuffix, type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { enqueueNotify } from "../enqueue.ts";
import { withAdvisoryLock } from "../lock.ts";
import { markPhase, routableEnvironments, updateEnvironmentAt } from "../state.ts";
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
 * Resolves once the new config is served, with the container it routes each environment to;
 * `drained` resolves once nothing serves the previous config.
 */
export async function syncGateway(
  deps: Pick<IngressDeps, "db" | "sql" | "gateway" | "challenges">,
): Promise<{ routes: number; routed: ReadonlyMap<string, string | null>; drained: Promise<void> }> {
  return withAdvisoryLock(deps.sql, "gateway-render", async () => {
    const rows = await routableEnvironments(deps.db);
    const routes: Route[] = rows.map((r) => ({
      hostname: r.hostname,
      upstreamPort: r.port,
      environmentId: r.id,
    }));
    // status pages, certificates and ACME answers come with the routes
    const { routes: served, extras } = await withTls(deps, routes);
    const { drained } = await deps.gateway.apply(served, extras);
    return { routes: served.length, routed: new Map(rows.map((r) => [r.id, r.containerId])), drained };
  });
}

/**
 * ingress: point the gateway at the environment's newest healthy container (or drop its route when
 * it is being destroyed). Once the new config is served the deployment is `ready`, recorded with
 * the container the rendered config routes to; once the old nginx workers have drained, a
 * reconcile is enqueued to remove the container that no longer receives traffic.
 */
export function routeEnvironment(deps: IngressDeps) {
  return (ctx: JobContext) =>
    runStep(deps, ctx, async ({ env }) => {
      const { envelope, log } = ctx;
      const { routes: count, routed, drained } = await syncGateway(deps);
      if (env.status === "destroying") {
        if (env.observedContainerId) return; // containers not yet gone: teardown calls again
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
      const containerId = routed.get(env.id);
      if (containerId !== env.observedContainerId) {
        // a repair replaced the container between this job's read and the render: try again
        throw new Error("the gateway rendered another container than this job was for; retrying");
      }
      const marked = await updateEnvironmentAt(deps.db, envelope, {
        routedContainerId: containerId,
        routedHostPort: env.observedHostPort,
        status: "ready",
        readyAt: new Date(),
      });
      if (!marked) return;
      await markPhase(deps.db, envelope.deploymentId, "ready");
      await enqueueNotify(deps.producer, env, envelope.deploymentId, "ready", envelope.image);
      log.info({ routes: count, port: env.observedHostPort }, "environment ready");
      // the previous container may go only once no nginx worker can still send it a request
      await drained;
      const pruneId = `${jobIds.reconcile(env.id, env.generation, "prune")}${inheritedSuffix(ctx.job.id)}`;
      await deps.producer.enqueue(QUEUES.reconcile, envelope, pruneId);
    });
}
