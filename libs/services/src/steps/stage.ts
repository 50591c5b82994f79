import { parseImageRef, pinnedRef } from "@edgeplane/domain";
import { type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { ManifestNotFoundError, type RegistryClient } from "@edgeplane/registry";
import type { Runtime } from "@edgeplane/runtime";
import type { WorkerDeps } from "../pipeline/boot.ts";
import { markPhase, updateEnvironmentAt } from "../pipeline/state.ts";
import { PermanentFailure, runStep } from "../pipeline/step.ts";

/**
 * stage-image: resolve the requested tag to a digest, make the image present on the runtime,
 * pin the deployment to that digest, then hand over to reconcile.
 */
export function stageImage(deps: WorkerDeps & { registry: RegistryClient; runtime: Runtime }) {
  return (ctx: JobContext) =>
    runStep(deps, ctx, async ({ env }) => {
      const { envelope, log } = ctx;
      if (env.status === "destroying" || env.status === "destroyed" || !envelope.image) return;
      await markPhase(deps.db, envelope.deploymentId, "staging");
      const ref = parseImageRef(envelope.image);
      let digest: string;
      try {
        digest = ref.digest ?? (await deps.registry.resolveDigest(ref));
      } catch (error) {
        if (error instanceof ManifestNotFoundError) throw new PermanentFailure(`image not found: ${error.message}`);
        throw error;
      }
      const pinned = pinnedRef(ref, digest);
      if (!(await deps.runtime.hasImage(pinned))) {
        const started = Date.now();
        await deps.runtime.pull(pinned);
        log.info({ image: pinned, ms: Date.now() - started }, "pulled image");
      }
      await markPhase(deps.db, envelope.deploymentId, "staging", { digest });
      if (!(await updateEnvironmentAt(deps.db, envelope, { desiredDigest: digest }))) return; // superseded meanwhile
      await deps.producer.enqueue(QUEUES.reconcile, envelope, jobIds.reconcile(envelope.environmentId, envelope.generation));
    });
}
