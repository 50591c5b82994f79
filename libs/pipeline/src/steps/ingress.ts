import { performance } from "node:perf_hooks";
import { type GatewayTarget, type Route, routeProblem } from "@edgeplane/gateway";
import type { Logger } from "@edgeplane/log";
import type { WorkerDeps } from "@edgeplane/queue";
import { inheritedSuffix, type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { enqueueNotify } from "../enqueue.ts";
import { environmentLock, withAdvisoryLock } from "../lock.ts";
import { markPhase, routableEnvironments, updateEnvironmentAt } from "../state.ts";
import { runStep } from "../step.ts";
import type { ChallengeStore } from "../tls/challenges.ts";
import { gatewayProjects, protects, withTls } from "./gateway-state.ts";

export interface IngressDeps extends WorkerDeps {
  gateway: GatewayTarget;
  /** ACME HTTP-01 answers this process presents while it orders certificates. */
  challenges?: ChallengeStore;
}

/**
 * Renders the gateway's whole config from Postgres and applies it (validated, atomic, reloaded).
 * Resolves once the new config is served, with the container it routes each environment to;
 * `drained` resolves once nothing serves the previous config.
 *
 * `promote` routes one environment to its observed container rather than its routed one: a config
 * that Postgres does not hold yet. `record` then writes it down, still under the render lock, once
 * that config is served: a render that came in between would read the old routing and put it back
 * (a ready host shown its status page, or routed to the container about to be pruned).
 */
export async function syncGateway<T = undefined>(
  deps: Pick<IngressDeps, "db" | "sql" | "gateway" | "challenges"> & { log?: Logger },
  promote?: string,
  record?: (routed: ReadonlyMap<string, ReadonlySet<string>>) => Promise<T>,
): Promise<{
  routes: number;
  routed: ReadonlyMap<string, ReadonlySet<string>>;
  drained: Promise<void>;
  /** Milliseconds spent reading and rendering (`render`), then installing and reloading (`apply`). */
  ms: { render: number; apply: number };
  recorded: T | undefined;
}> {
  return withAdvisoryLock(deps.sql, "gateway-render", async () => {
    const began = performance.now();
    const rows = await routableEnvironments(deps.db, promote);
    const projectRows = await gatewayProjects(deps.db);
    const byId = new Map(projectRows.map((p) => [p.id, p]));
    const routes: Route[] = [];
    const routed = new Map<string, Set<string>>();
    for (const r of rows) {
      // asleep (or waking, until its own ingress routes it again): requests go to the waker
      const sleeping = r.status === "sleeping" || (r.status === "waking" && r.id !== promote);
      const project = byId.get(r.projectId);
      const route = {
        hostname: r.hostname,
        upstreamHost: r.address,
        upstreamPort: r.port,
        environmentId: r.id,
        ...(project && protects(project, r.kind) ? { protect: true } : {}),
        ...(sleeping ? { sleeping: true } : {}),
      };
      const problem = routeProblem(route);
      // one bad row never stops the gateway for every other environment: it is left out, and said
      if (problem) deps.log?.error({ environment: r.id, problem }, "environment left out of the gateway");
      else {
        routes.push(route);
        routed.set(r.id, (routed.get(r.id) ?? new Set()).add(r.containerId));
      }
    }
    // status pages, certificates and ACME answers come with the routes
    const { routes: served, extras } = await withTls(deps, routes, projectRows);
    const rendered = performance.now();
    const { drained } = await deps.gateway.apply(served, extras);
    const ms = { render: Math.round(rendered - began), apply: Math.round(performance.now() - rendered) };
    const recorded = await record?.(routed);
    return { routes: served.length, routed, drained, ms, recorded };
  });
}

/**
 * ingress: point the gateway at the environment's newest healthy container (or drop its route when
 * it is being destroyed), under the environment's lock so no reconcile changes what it switches
 * to meanwhile. Once the new config is served the deployment is `ready` and the container is
 * recorded as routed; once the old nginx workers have drained (outside the lock), a reconcile is
 * enqueued to remove the container that no longer receives traffic.
 */
export function routeEnvironment(deps: IngressDeps) {
  return async (ctx: JobContext) => {
    let drainThenPrune: (() => Promise<void>) | undefined;
    await runStep(
      deps,
      ctx,
      async ({ env }, lock) => {
        const { envelope, log } = ctx;
        lock.assertHeld();
        // the routing this config serves is written down before any other render can read it
        const {
          routes: count,
          drained,
          ms,
          recorded: marked,
        } = await syncGateway(deps, env.id, async (routed) => {
          lock.assertHeld();
          if (env.status === "sleeping" || env.status === "destroying") return false;
          const rendered = routed.get(env.id) ?? new Set<string>();
          if (env.observedServices) {
            // a compose environment: ready once every service with a route is served by its new container
            const missing = Object.values(env.observedServices).filter(
              (s) => s.hostname && s.port && !rendered.has(s.containerId),
            );
            if (missing.length > 0) return false; // left out: said by the render
          } else if (!env.observedContainerId || !rendered.has(env.observedContainerId)) return false; // left out: said by the render
          const ready = await updateEnvironmentAt(deps.db, envelope, {
            routedContainerId: env.observedContainerId,
            routedAddress: env.observedAddress,
            routedPort: env.observedPort,
            routedServices: env.observedServices,
            status: "ready",
            readyAt: new Date(),
          });
          if (ready) await markPhase(deps.db, envelope.deploymentId, "ready");
          return ready;
        });
        lock.assertHeld();
        if (env.status === "sleeping") {
          log.info({ routes: count }, "environment asleep: its hosts wake it");
          return;
        }
        if (env.status === "destroying") {
          if (env.observedContainerId || env.observedServices) return; // containers not yet gone: teardown calls again
          await updateEnvironmentAt(deps.db, envelope, {
            status: "destroyed",
            destroyedAt: new Date(),
            routedContainerId: null,
            routedAddress: null,
            routedPort: null,
            routedServices: null,
          });
          log.info({ routes: count }, "environment destroyed");
          await enqueueNotify(deps.producer, env, null, "destroyed");
          return;
        }
        if (!marked) return;
        await enqueueNotify(deps.producer, env, envelope.deploymentId, "ready", envelope.image);
        log.info(
          { routes: count, address: env.observedAddress, port: env.observedPort, ms },
          "environment ready",
        );
        drainThenPrune = async () => {
          // the previous container may go only once no nginx worker can still send it a request
          await drained;
          const pruneId = `${jobIds.reconcile(env.id, env.generation, "prune")}${inheritedSuffix(ctx.job.id)}`;
          await deps.producer.enqueue(QUEUES.reconcile, envelope, pruneId);
        };
      },
      { lock: environmentLock(ctx.envelope.environmentId) },
    );
    await drainThenPrune?.();
  };
}
