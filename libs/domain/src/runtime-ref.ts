import { type ImageRef, parseImageRef, pinnedRef } from "./image-ref.ts";

/** An edge registry: a pull-through cache of exactly one upstream (primary) registry. */
export interface EdgeRegistry {
  /** `host[:port]` the runtime pulls from, e.g. `127.0.0.1:5002`. */
  registry: string;
  /** `host[:port]` of the primary it caches, as image references name it, e.g. `ghcr.io`. */
  upstream: string;
}

/** Whether `ref` comes from the registry the edge caches (and so must be pulled through it). */
export function servedByEdge(ref: ImageRef, edge: EdgeRegistry | null): edge is EdgeRegistry {
  return edge !== null && ref.registry === edge.upstream;
}

/**
 * The reference the runtime pulls and runs for a deployment: the requested repository pinned by
 * the digest staged for it, through the edge registry when the image comes from the primary it
 * caches (`edge/repo@sha256:…`), else straight from its own registry. Stage and reconcile both
 * derive it from the environment row (requested image + digest) and the same configuration, so
 * a tag moved later never changes what runs.
 */
export function runtimeRef(image: string | ImageRef, digest: string, edge: EdgeRegistry | null): string {
  const ref = typeof image === "string" ? parseImageRef(image) : image;
  if (servedByEdge(ref, edge)) return `${edge.registry}/${ref.repository}@${digest}`;
  return pinnedRef(ref, digest);
}
