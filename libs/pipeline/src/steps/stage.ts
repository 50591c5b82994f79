import type { DeploymentRow, EnvironmentRow, ProjectRow } from "@edgeplane/db";
import { type DesiredServices, parseImageRef } from "@edgeplane/domain";
import type { WorkerDeps } from "@edgeplane/queue";
import { type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { ensureEnvironmentNetwork, type NetworkPool } from "../network.ts";
import { markPhase, updateEnvironmentAt } from "../state.ts";
import { runStep } from "../step.ts";
import {
  type ArtifactDeps,
  projectArtifactDeps,
  resolveStageDigest,
  stageOnRuntime,
} from "./stage-artifact.ts";

/** What staging needs to make an environment's network ahead of reconcile (see stageImage). */
export interface StageNetworkDeps {
  instance: string;
  pool: NetworkPool;
}

/**
 * stage-image: resolve the requested tag to a digest at the primary (waiting for an image not
 * pushed yet), warm the edge registry with it and pull `edge/repo@digest` onto the runtime, pin
 * the deployment and environment to that digest, then hand over to reconcile. A compose project's
 * environment stages every service's image (each distinct reference once) before any is pinned.
 *
 * Meanwhile the environment's private network is made (a new environment's first deploy): it
 * depends on nothing staging does, and reconcile, which would otherwise make it first, then finds
 * it there. Making it is idempotent; if it fails here, reconcile makes it as before.
 */
export function stageImage(deps: WorkerDeps & ArtifactDeps & StageNetworkDeps) {
  return (ctx: JobContext) =>
    runStep(deps, ctx, async ({ env, project, deployment }) => {
      const { envelope } = ctx;
      if (env.status === "destroying" || env.status === "destroyed" || !envelope.image) return;
      const network = ensureEnvironmentNetwork(deps, env).then(
        () => undefined,
        (error: unknown) => {
          ctx.log.warn({ err: (error as Error).message }, "network not made ahead; reconcile makes it");
        },
      );
      try {
        await markPhase(deps.db, envelope.deploymentId, "staging");
        if (env.desiredServices) {
          await stageServices(deps, ctx, { env, project, deployment }, env.desiredServices, network);
          return;
        }
        const digest = await stageOne(deps, ctx, project, deployment, envelope.image);
        await markPhase(deps.db, envelope.deploymentId, "staging", { digest, statusDetail: null });
        if (!(await updateEnvironmentAt(deps.db, envelope, { desiredDigest: digest }))) return; // superseded meanwhile
        await network;
        await handOver(deps, ctx);
      } finally {
        await network; // never left running past the step (and its environment's lock)
      }
    });
}

async function stageOne(
  deps: ArtifactDeps,
  ctx: JobContext,
  project: ProjectRow,
  deployment: DeploymentRow | null,
  image: string,
): Promise<string> {
  const ref = parseImageRef(image);
  const staging = projectArtifactDeps(deps, project, ref);
  const digest = await resolveStageDigest(staging.deps, ctx, ref, deployment, staging);
  await stageOnRuntime(staging.deps, ref, digest, ctx.log);
  return digest;
}

async function stageServices(
  deps: WorkerDeps & ArtifactDeps,
  ctx: JobContext,
  {
    env,
    project,
    deployment,
  }: { env: EnvironmentRow; project: ProjectRow; deployment: DeploymentRow | null },
  desired: DesiredServices,
  network: Promise<void>,
): Promise<void> {
  const digests = new Map<string, string>();
  for (const { image } of Object.values(desired)) {
    if (!digests.has(image)) digests.set(image, await stageOne(deps, ctx, project, deployment, image));
  }
  const staged: DesiredServices = Object.fromEntries(
    Object.entries(desired).map(([name, s]) => [name, { ...s, digest: digests.get(s.image) ?? null }]),
  );
  const digest = digests.get(env.desiredImage ?? "") ?? null;
  if (!digest) throw new Error("the primary service's image was not staged");
  const { envelope } = ctx;
  await markPhase(deps.db, envelope.deploymentId, "staging", {
    digest,
    services: staged,
    statusDetail: null,
  });
  if (!(await updateEnvironmentAt(deps.db, envelope, { desiredDigest: digest, desiredServices: staged })))
    return;
  await network;
  await handOver(deps, ctx);
}

async function handOver(deps: WorkerDeps, { envelope }: JobContext): Promise<void> {
  await deps.producer.enqueue(
    QUEUES.reconcile,
    envelope,
    jobIds.reconcile(envelope.environmentId, envelope.generation),
  );
}
