import { z } from "zod";

/**
 * An OCI image reference as the distribution spec and Docker parse it:
 * [registry[:port]/]path[:tag][@digest]. We require a tag or a digest: "latest" by
 * omission is a footgun for a deploy tool.
 */
export interface ImageRef {
  registry: string;
  repository: string;
  tag: string | null;
  digest: string | null;
}

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const PATH = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST =
  /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;

export class ImageRefError extends Error {
  override name = "ImageRefError";
}

export function parseImageRef(input: string): ImageRef {
  if (input.length === 0 || input.length > 512)
    throw new ImageRefError("image reference must be 1-512 characters");
  if (/\s/.test(input)) throw new ImageRefError("image reference must not contain whitespace");
  let rest = input;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageRefError("digest must be sha256:<64 lowercase hex>");
  }
  let tag: string | null = null;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageRefError(`invalid tag "${tag.slice(0, 40)}"`);
  }
  let registry = "docker.io";
  let repository = rest;
  const firstSlash = rest.indexOf("/");
  if (firstSlash > 0) {
    const first = rest.slice(0, firstSlash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[")) {
      registry = first;
      repository = rest.slice(firstSlash + 1);
      if (!HOST.test(registry)) throw new ImageRefError(`invalid registry host "${registry.slice(0, 60)}"`);
    }
  }
  if (registry === "docker.io" && !repository.includes("/")) repository = `library/${repository}`;
  if (!PATH.test(repository) || repository.length > 255) {
    throw new ImageRefError("repository must be lowercase path components separated by '/'");
  }
  if (!tag && !digest) throw new ImageRefError("image reference needs a tag or a digest, e.g. :sha-1a2b3c");
  return { registry, repository, tag, digest };
}

export function formatImageRef(ref: ImageRef): string {
  const base = `${ref.registry}/${ref.repository}`;
  return `${base}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The image pinned by digest: what a deployment runs, whatever the tag points at later. */
export function pinnedRef(ref: ImageRef, digest: string): string {
  return `${ref.registry}/${ref.repository}@${digest}`;
}

export const imageReference = z.string().superRefine((value, ctx) => {
  try {
    parseImageRef(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});
