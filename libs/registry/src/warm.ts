import { setTimeout as sleep } from "node:timers/promises";
import type { RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";
import { imageBlobs, type Platform, parseManifest, selectPlatform } from "./manifest.ts";

export interface WarmReport {
  /** The image manifest warmed: the platform's entry when `digest` names an index. */
  imageDigest: string;
  manifests: number;
  blobs: number;
  bytes: number;
  /** Blobs the cache had not confirmed storing (a byte range from its own storage) in time. */
  unconfirmed: number;
}

/**
 * Makes a pull-through cache hold an image: reads the manifest by digest through it (for an index,
 * also the manifest of `platform`), then downloads every blob through it (verifying each), which
 * makes the cache fetch it from its upstream and store it, and waits until the cache serves each
 * from its own storage (`confirmMs`, default 60 s; past it the blob is counted `unconfirmed`).
 * Once warm, the image can be pulled from the cache while the upstream is down.
 */
export async function warmImage(
  client: RegistryClient,
  target: {
    registry: string;
    repository: string;
    digest: string;
    platform: Platform;
    concurrency?: number;
    confirmMs?: number;
  },
): Promise<WarmReport> {
  const { registry, repository } = target;
  const top = await client.getManifest(registry, repository, target.digest);
  let manifest = parseManifest(top.body, top.mediaType);
  let imageDigest = target.digest;
  let manifests = 1;
  if (manifest.kind === "index") {
    const entry = selectPlatform(manifest, target.platform);
    if (!entry) {
      throw new RegistryError(
        `${registry}/${repository}@${target.digest} has no image for ${target.platform.os}/${target.platform.architecture}`,
      );
    }
    const fetched = await client.getManifest(registry, repository, entry.digest);
    manifest = parseManifest(fetched.body, fetched.mediaType);
    if (manifest.kind !== "image")
      throw new RegistryError(`index entry ${entry.digest} is not an image manifest`);
    imageDigest = entry.digest;
    manifests += 1;
  }
  const image = manifest;
  const blobs = imageBlobs(image);
  let bytes = 0;
  let unconfirmed = 0;
  let next = 0;
  const worker = async () => {
    while (next < blobs.length) {
      const blob = blobs[next++];
      if (!blob) continue;
      const size = await client.fetchBlob(registry, repository, blob.digest);
      bytes += size; // after the await: `bytes += await …` would add to a stale total
      if (!(await stored(client, registry, repository, blob.digest, target.confirmMs ?? 60_000)))
        unconfirmed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(target.concurrency ?? 4, blobs.length) }, worker));
  return { imageDigest, manifests, blobs: blobs.length, bytes, unconfirmed };
}

/** Polls (backing off from 50 ms to 2 s) until the cache serves the blob from its own storage. */
async function stored(
  client: RegistryClient,
  registry: string,
  repository: string,
  digest: string,
  withinMs: number,
): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 2000)) {
    if (await client.servesBlobRange(registry, repository, digest)) return true;
    if (Date.now() + wait > deadline) return false;
    await sleep(wait);
  }
}
