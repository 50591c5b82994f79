import { parseImageRef } from "@edgeplane/domain";
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
 * the deployment and environment to that digest, then hand over to reconcile.
 */
export function stageImage(deps: WorkerDeps & ArtifactDeps) {
  return (ctx: JobContext) =>
    runStep(deps, ctx, async ({ env, project, deployment }) => {
      const { envelope, log } = ctx;
      if (env.status === "destroying" || env.status === "destroyed" || !envelope.image) return;
      await markPhase(deps.db, envelope.deploymentId, "staging");
      const ref = parseImageRef(envelope.image);
      const staging = projectArtifactDeps(deps, project, ref);
      const digest = await resolveStageDigest(staging.deps, ctx, ref, deployment, staging);
      await stageOnRuntime(staging.deps, ref, digest, log);
      await markPhase(deps.db, envelope.deploymentId, "staging", { digest, statusDetail: null });
      if (!(await updateEnvironmentAt(deps.db, envelope, { desiredDigest: digest }))) return; // superseded meanwhile
      await deps.producer.enqueue(
        QUEUES.reconcile,
        envelope,
        jobIds.reconcile(envelope.environmentId, envelope.generation),
      );
    });
}
