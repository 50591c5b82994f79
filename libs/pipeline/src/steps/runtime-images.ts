import type { ArtifactConfig } from "@edgeplane/config";
import { type Db, eq, runtimeImages } from "@edgeplane/db";
import { parseImageRef } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import type { PullAuth, Runtime } from "@edgeplane/runtime";

export interface ImagePullDeps {
  db: Db;
  runtime: Runtime;
  log: Logger;
  /** Credentials for pulling straight from a private primary (no edge in between). */
  pullAuth?: (image: string) => PullAuth | undefined;
}

/**
 * Pull credentials for images of the primary registry, the only registry the configured
 * credentials are ever presented to. The edge registry needs none: it holds them itself.
 */
export function primaryPullAuth(
  artifact: ArtifactConfig,
): ((image: string) => PullAuth | undefined) | undefined {
  const { primary, credentials } = artifact;
  if (!primary || !credentials) return undefined;
  return (image) =>
    parseImageRef(image).registry === primary ? { ...credentials, serveraddress: primary } : undefined;
}

/** Pulls `image` (pinned by digest) onto the runtime and records that edgeplane pulled it. */
export async function pullRuntimeImage(deps: ImagePullDeps, image: string, digest: string): Promise<number> {
  const started = Date.now();
  await deps.runtime.pull(image, deps.pullAuth?.(image));
  await recordRuntimeImage(deps.db, image, digest);
  const ms = Date.now() - started;
  deps.log.info({ image, ms }, "pulled image");
  return ms;
}

/**
 * Makes sure the runtime has `image`, pulling it if it is missing (say, removed by hand or by the
 * janitor meanwhile); an image edgeplane pulled is marked used now, which keeps the janitor off it.
 */
export async function ensureRuntimeImage(
  deps: ImagePullDeps,
  image: string,
  digest: string,
): Promise<"present" | "pulled"> {
  if (await deps.runtime.hasImage(image)) {
    await touchRuntimeImage(deps.db, image);
    return "present";
  }
  await pullRuntimeImage(deps, image, digest);
  return "pulled";
}

/** Records an image edgeplane pulled: only images in this table may ever be removed by the janitor. */
export async function recordRuntimeImage(
  db: Db,
  ref: string,
  digest: string,
  now = new Date(),
): Promise<void> {
  await db
    .insert(runtimeImages)
    .values({ ref, digest, lastUsedAt: now })
    .onConflictDoUpdate({ target: runtimeImages.ref, set: { digest, lastUsedAt: now } });
}

/** Marks an image edgeplane pulled as used now; an image it did not pull stays unrecorded. */
export async function touchRuntimeImage(db: Db, ref: string, now = new Date()): Promise<void> {
  await db.update(runtimeImages).set({ lastUsedAt: now }).where(eq(runtimeImages.ref, ref));
}
