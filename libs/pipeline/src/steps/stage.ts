import type { DeploymentRow, EnvironmentRow, ProjectRow } from "@edgeplane/db";
import { type DesiredServices, parseImageRef } from "@edgeplane/domain";
import type { WorkerDeps } from "@edgeplane/queue";
import { type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { markPhase, updateEnvironmentAt } from "../state.ts";
import { runStep } from "../step.ts";
import {
  type ArtifactDeps,
  projectArtifactDeps,
  resolveStageDigest,
  stageOnRuntime,
} from "./stage-artifact.ts";

/**
 * stage-image: resolve the requested tag to a digest at the primary (waiting for an image not
 * pushed yet), warm the edge registry with it and pull `edge/repo@digest` onto the runtime, pin
 * the deployment and environment to that digest, then hand over to reconcile. A compose project's
 * environment stages every service's image (each distinct reference once) before any is pinned.
 */
export function stageImage(deps: WorkerDeps & ArtifactDeps) {
  return (ctx: JobContext) =>
    runStep(deps, ctx, async ({ env, project, deployment }) => {
      const { envelope } = ctx;
      if (env.status === "destroying" || env.status === "destroyed" || !envelope.image) return;
      await markPhase(deps.db, envelope.deploymentId, "staging");
      if (env.desiredServices) {
        await stageServices(deps, ctx, { env, project, deployment }, env.desiredServices);
        return;
      }
      const digest = await stageOne(deps, ctx, project, deployment, envelope.image);
      await markPhase(deps.db, envelope.deploymentId, "staging", { digest, statusDetail: null });
      if (!(await updateEnvironmentAt(deps.db, envelope, { desiredDigest: digest }))) return; // superseded meanwhile
      await handOver(deps, ctx);
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
  await handOver(deps, ctx);
}

async function handOver(deps: WorkerDeps, { envelope }: JobContext): Promise<void> {
  await deps.producer.enqueue(
    QUEUES.reconcile,
    envelope,
    jobIds.reconcile(envelope.environmentId, envelope.generation),
  );
}
