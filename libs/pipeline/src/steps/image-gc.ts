import {
  and,
  type Db,
  deployments,
  environments,
  eq,
  inArray,
  isNotNull,
  lt,
  notInArray,
  runtimeImages,
} from "@edgeplane/db";
import { UNFINISHED_PHASES } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import type { Runtime } from "@edgeplane/runtime";

export interface ImageGcDeps {
  db: Db;
  runtime: Runtime;
  log: Logger;
  /** An image used (pulled, staged or started) this recently is kept, so a redeploy never races it. */
  graceMs: number;
}

export interface ImageGcReport {
  removed: number;
  /** Rows dropped for images that were already gone from the runtime. */
  forgotten: number;
  /** Unused by edgeplane but still used by some container on the host: kept. */
  inUse: number;
}

/**
 * Removes from the runtime the images edgeplane pulled (the `runtime_images` table, nothing else)
 * that no live environment and no unfinished deployment is pinned to (compared by digest), that no
 * container on the host uses, and that nothing used within the grace period; then forgets them.
 * The runtime is never asked to force: an image a container still uses stays. Runs inside the
 * janitor's sweep (one at a time); if a listing fails, nothing is removed.
 */
export async function collectUnusedImages(deps: ImageGcDeps, now = new Date()): Promise<ImageGcReport> {
  const report: ImageGcReport = { removed: 0, forgotten: 0, inUse: 0 };
  if (deps.graceMs <= 0) return report;
  const candidates = await deps.db
    .select()
    .from(runtimeImages)
    .where(lt(runtimeImages.lastUsedAt, new Date(now.getTime() - deps.graceMs)));
  if (candidates.length === 0) return report;

  const pinned = new Set<string>();
  const live = await deps.db
    .select({ digest: environments.desiredDigest })
    .from(environments)
    .where(and(notInArray(environments.status, ["destroyed"]), isNotNull(environments.desiredDigest)));
  const inFlight = await deps.db
    .select({ digest: deployments.digest })
    .from(deployments)
    .where(and(inArray(deployments.status, [...UNFINISHED_PHASES]), isNotNull(deployments.digest)));
  for (const row of [...live, ...inFlight]) if (row.digest) pinned.add(row.digest);
  const usedByContainers = await deps.runtime.imagesInUse();

  for (const image of candidates) {
    if (pinned.has(image.digest)) continue;
    const id = await deps.runtime.imageId(image.ref);
    if (id && usedByContainers.has(id)) {
      report.inUse += 1;
      continue;
    }
    const outcome = id ? await deps.runtime.removeImage(image.ref) : "absent";
    if (outcome === "in-use") {
      report.inUse += 1;
      continue;
    }
    // forget it only if nobody used it meanwhile (a stage may have touched it since the listing)
    await deps.db
      .delete(runtimeImages)
      .where(and(eq(runtimeImages.ref, image.ref), eq(runtimeImages.lastUsedAt, image.lastUsedAt)));
    if (outcome === "removed") {
      report.removed += 1;
      deps.log.info({ image: image.ref }, "removed unused image");
    } else {
      report.forgotten += 1;
    }
  }
  return report;
}
