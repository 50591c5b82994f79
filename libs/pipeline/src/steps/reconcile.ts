import { type EdgeRegistry, runtimeRef } from "@edgeplane/domain";
import type { WorkerDeps } from "@edgeplane/queue";
import { inheritedSuffix, type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { type Runtime, waitHealthy } from "@edgeplane/runtime";
import { withAdvisoryLock } from "../lock.ts";
import { loadJobState, markPhase, updateEnvironmentAt } from "../state.ts";
import { PermanentFailure, runStep } from "../step.ts";
import { ensureRuntimeImage, type ImagePullDeps } from "./runtime-images.ts";

export interface ReconcileDeps extends WorkerDeps {
  runtime: Runtime;
  instance: string;
  healthTimeoutMs: number;
  /** The same edge configuration as worker-stage's: the image runs as `edge/repo@digest`. */
  edge: EdgeRegistry | null;
  pullAuth?: ImagePullDeps["pullAuth"];
}

/**
 * reconcile: make the runtime match the environment row, level-triggered and idempotent.
 * Ensures one healthy container of the current generation (start it and wait for its
 *   health check if missing), hand it to ingress, and remove containers that are neither the
 *   observed one nor the one the gateway still routes to.
 * One reconcile at a time per environment (advisory lock); a newer generation supersedes.
 */
export function reconcileEnvironment(deps: ReconcileDeps) {
  return (ctx: JobContext) =>
    runStep(deps, ctx, () =>
      withAdvisoryLock(deps.sql, `reconcile:${ctx.envelope.environmentId}`, async () => {
        const { envelope, log } = ctx;
        // re-read under the lock: another reconcile may have run meanwhile
        const { env, project, superseded } = await loadJobState(deps.db, envelope);
        if (superseded) {
          await markPhase(deps.db, envelope.deploymentId, "superseded");
          return;
        }
        const containers = await deps.runtime.list({ environmentId: env.id });

        // teardown belongs to the janitor; a reconcile never resurrects what is being destroyed
        if (env.status === "destroying" || env.status === "destroyed") return;
        if (!env.desiredImage || !env.desiredDigest) return; // staging has not finished: nothing to run yet

        let current = containers.find(
          (c) => c.generation === env.generation && c.running && c.id === env.observedContainerId,
        );
        if (!current) {
          await markPhase(deps.db, envelope.deploymentId, "starting");
          for (const c of containers.filter((c) => c.generation === env.generation))
            await deps.runtime.remove(c.id);
          const image = runtimeRef(env.desiredImage, env.desiredDigest, deps.edge);
          await ensureRuntimeImage(deps, image, env.desiredDigest); // staged, unless removed since
          const started = Date.now();
          const container = await deps.runtime.start({
            instance: deps.instance,
            projectId: project.id,
            projectName: project.name,
            environmentId: env.id,
            environmentName: env.name,
            deploymentId: envelope.deploymentId,
            generation: env.generation,
            image,
            containerPort: project.port,
            env: project.env,
            memoryBytes: project.memoryMb * 1024 * 1024,
            nanoCpus: project.cpuMillis * 1_000_000,
          });
          const port = container.hostPort ?? 0;
          const health = await waitHealthy({
            port,
            path: project.healthcheckPath,
            timeoutMs: deps.healthTimeoutMs,
            stillAlive: async () =>
              (await deps.runtime.list({ environmentId: env.id })).some(
                (c) => c.id === container.id && c.running,
              ),
          });
          if (!health.healthy) {
            const logs = await deps.runtime.logsTail(container.id, 20);
            await deps.runtime.remove(container.id);
            throw new PermanentFailure(
              `container did not become healthy within ${Math.round(deps.healthTimeoutMs / 1000)}s (${health.lastError})${logs ? `; last output: ${logs.trim().slice(-500)}` : ""}`,
            );
          }
          log.info(
            { container: container.id.slice(0, 12), port, ms: Date.now() - started },
            "container healthy",
          );
          if (
            !(await updateEnvironmentAt(deps.db, envelope, {
              observedContainerId: container.id,
              observedHostPort: port,
            }))
          ) {
            await deps.runtime.remove(container.id); // superseded while starting
            return;
          }
          current = container;
        }

        const keep = new Set([current.id, env.routedContainerId]);
        for (const c of containers) {
          if (!keep.has(c.id)) {
            await deps.runtime.remove(c.id);
            log.info({ container: c.id.slice(0, 12), generation: c.generation }, "removed old container");
          }
        }
        if (env.routedContainerId !== current.id || env.status !== "ready") {
          await markPhase(deps.db, envelope.deploymentId, "routing");
          // a resync's reconcile (say, one that replaced a stopped container) routes with new work
          const jobId = `${jobIds.ingress(env.id, env.generation)}${inheritedSuffix(ctx.job.id)}`;
          await deps.producer.enqueue(QUEUES.ingress, envelope, jobId);
        }
      }),
    );
}
