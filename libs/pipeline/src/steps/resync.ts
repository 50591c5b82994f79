import {
  type Db,
  type DeploymentRow,
  deployments,
  type EnvironmentRow,
  environments,
  eq,
  inArray,
} from "@edgeplane/db";
import { isTerminalPhase, type ObservedServices } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import {
  type EnvelopeInput,
  jobIds,
  type LiveJobs,
  type Producer,
  QUEUES,
  resyncSuffix,
} from "@edgeplane/queue";
import type { ManagedContainer, Runtime } from "@edgeplane/runtime";
import { enqueueTeardown } from "../enqueue.ts";
import { sameServices } from "./reconcile-services.ts";

export interface ResyncDeps {
  db: Db;
  producer: Producer;
  runtime: Runtime;
  liveJobs: LiveJobs;
  log: Logger;
  /** The resync's period; job ids carry `floor(now / intervalMs)`, so one run's work never collides with an earlier run's. */
  intervalMs: number;
  /** An environment changed this recently is left alone: its request may still be enqueueing. */
  graceMs: number;
}

export interface ResyncReport {
  stage: number;
  reconcile: number;
  teardown: number;
}

/** The queues whose jobs carry an environment's pipeline. */
const PIPELINE_QUEUES = [QUEUES.stage, QUEUES.reconcile, QUEUES.ingress, QUEUES.teardown];

/**
 * The resync, level-triggered like a Kubernetes controller: it re-derives from Postgres (and the
 * runtime's containers) what every environment still needs, and enqueues it when no job carries
 * that work any more. So intent that was committed converges even if the enqueue after the commit
 * failed, Redis restarted empty, or a job failed without recording a verdict.
 *
 * - `deploying` (current deployment unfinished): stage its image if no digest is pinned yet,
 *   otherwise reconcile.
 * - `ready`: reconcile when the runtime drifted: the observed container is gone, stopped or
 *   replaced, another container runs beside it, or the gateway routes elsewhere.
 * - `waking`: reconcile (a request woke it; its containers start again).
 * - `destroying`: teardown.
 * - `failed` is left alone: a failed deployment waits for a human (a new deploy request, or a
 *   retry from the ops dashboard); retrying it on a timer would start a broken image forever.
 */
export async function resync(deps: ResyncDeps, now = new Date()): Promise<ResyncReport> {
  const report: ResyncReport = { stage: 0, reconcile: 0, teardown: 0 };
  const rows = await deps.db
    .select({ env: environments, deployment: deployments })
    .from(environments)
    .leftJoin(deployments, eq(deployments.id, environments.currentDeploymentId))
    .where(inArray(environments.status, ["deploying", "ready", "waking", "destroying"]));
  if (rows.length === 0) return report;

  const live = await deps.liveJobs.ids(PIPELINE_QUEUES);
  const busy = (env: EnvironmentRow) =>
    [...live].some(
      (id) =>
        id.includes(env.id) || (env.currentDeploymentId !== null && id.includes(env.currentDeploymentId)),
    );
  // one listing for every environment; if the runtime cannot be read, drift is checked next time
  const containers = rows.some((r) => r.env.status === "ready")
    ? await deps.runtime.list().catch((error: Error) => {
        deps.log.warn({ err: error.message }, "resync: runtime listing failed; drift not checked this time");
        return null;
      })
    : [];
  const bucket = Math.floor(now.getTime() / deps.intervalMs);
  const suffix = resyncSuffix(bucket);
  const settledBefore = now.getTime() - deps.graceMs;

  for (const { env, deployment } of rows) {
    if (busy(env)) continue;
    if (env.status === "destroying") {
      if (env.updatedAt.getTime() > settledBefore) continue;
      await enqueueTeardown(deps.producer, env, `r${bucket}`);
      report.teardown++;
      continue;
    }
    const envelope = envelopeFor(env, deployment);
    const reconcile = async () => {
      await deps.producer.enqueue(
        QUEUES.reconcile,
        envelope,
        `${jobIds.reconcile(env.id, env.generation)}${suffix}`,
      );
      report.reconcile++;
    };
    if (env.status === "waking") {
      // a wake whose reconcile was lost: started again
      if (env.updatedAt.getTime() <= settledBefore) await reconcile();
      continue;
    }
    if (env.status === "deploying") {
      if (!deployment || isTerminalPhase(deployment.status) || env.updatedAt.getTime() > settledBefore)
        continue;
      if (!env.desiredDigest) {
        await deps.producer.enqueue(QUEUES.stage, envelope, `${jobIds.stage(deployment.id)}${suffix}`);
        report.stage++;
      } else await reconcile();
      continue;
    }
    // ready
    if (
      containers === null ||
      !drifted(
        env,
        containers.filter((c) => c.environmentId === env.id),
      )
    )
      continue;
    await reconcile();
  }
  if (report.stage + report.reconcile + report.teardown > 0)
    deps.log.info(report, "resync enqueued lost or missing work");
  return report;
}

/** A ready environment has exactly its observed container, running, of its generation, and routed. */
export function drifted(env: EnvironmentRow, containers: ManagedContainer[]): boolean {
  if (env.observedServices) return servicesDrifted(env, env.observedServices, containers);
  const [only, ...others] = containers;
  return !(
    only &&
    others.length === 0 &&
    only.id === env.observedContainerId &&
    only.running &&
    only.generation === env.generation &&
    only.address !== null &&
    only.address === env.observedAddress &&
    env.routedContainerId === env.observedContainerId &&
    env.routedAddress === env.observedAddress
  );
}

/**
 * A ready compose environment has exactly its services' observed containers, each running (a
 * one-shot: completed), at its address, and the gateway routes each service to its container.
 */
function servicesDrifted(
  env: EnvironmentRow,
  observed: ObservedServices,
  containers: ManagedContainer[],
): boolean {
  const wanted = Object.values(observed);
  const byId = new Map(containers.map((c) => [c.id, c]));
  return !(
    containers.length === wanted.length &&
    wanted.every((s) => {
      const c = byId.get(s.containerId);
      return c !== undefined && c.address === s.address && (c.running || s.oneShot);
    }) &&
    sameServices(env.routedServices, observed)
  );
}

/** The envelope the environment's current jobs carry: its current deployment, when it matches. */
function envelopeFor(env: EnvironmentRow, deployment: DeploymentRow | null): EnvelopeInput {
  if (deployment && deployment.generation === env.generation) {
    return {
      deploymentId: deployment.id,
      environmentId: env.id,
      projectId: env.projectId,
      generation: deployment.generation,
      image: deployment.image,
    };
  }
  return {
    deploymentId: null,
    environmentId: env.id,
    projectId: env.projectId,
    generation: env.generation,
    image: env.desiredImage,
  };
}
