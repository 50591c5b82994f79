import { RegistryError } from "./errors.ts";

export const INDEX_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
];
export const IMAGE_MANIFEST_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];
export const MANIFEST_TYPES = [...INDEX_TYPES, ...IMAGE_MANIFEST_TYPES];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  /** Non-distributable (foreign) layers are fetched from these, never from a registry. */
  urls?: string[];
  platform?: Platform;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export type Manifest =
  | { kind: "index"; mediaType: string; manifests: Descriptor[] }
  | { kind: "image"; mediaType: string; config: Descriptor; layers: Descriptor[] };

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function descriptor(value: unknown, what: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (!d || typeof d.digest !== "string" || !DIGEST.test(d.digest) || typeof d.size !== "number") {
    throw new RegistryError(`malformed manifest: ${what} is not a valid descriptor`);
  }
  return {
    mediaType: String(d.mediaType ?? ""),
    digest: d.digest,
    size: d.size,
    urls: d.urls,
    platform: d.platform,
  };
}

/**
 * Parses an image manifest or an index (OCI or Docker v2); the media type comes from the
 * Content-Type header, else from the body. Docker schema 1 manifests are refused.
 */
export function parseManifest(body: Buffer | string, contentType?: string | null): Manifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body.toString()) as Record<string, unknown>;
  } catch {
    throw new RegistryError("malformed manifest: not JSON");
  }
  const header = contentType?.split(";")[0]?.trim();
  const mediaType = (typeof json.mediaType === "string" && json.mediaType) || header || "";
  if (json.schemaVersion === 1 || "fsLayers" in json)
    throw new RegistryError("unsupported manifest: Docker schema 1");
  if (INDEX_TYPES.includes(mediaType) || (Array.isArray(json.manifests) && !("config" in json))) {
    if (!Array.isArray(json.manifests)) throw new RegistryError("malformed index: no manifests");
    return {
      kind: "index",
      mediaType,
      manifests: json.manifests.map((m, i) => descriptor(m, `manifests[${i}]`)),
    };
  }
  if (!Array.isArray(json.layers)) throw new RegistryError("malformed manifest: no layers");
  return {
    kind: "image",
    mediaType,
    config: descriptor(json.config, "config"),
    layers: json.layers.map((l, i) => descriptor(l, `layers[${i}]`)),
  };
}

/** The entry of an index for `platform` (an exact variant first, then any variant of the architecture). */
export function selectPlatform(
  index: Extract<Manifest, { kind: "index" }>,
  platform: Platform,
): Descriptor | undefined {
  const candidates = index.manifests.filter(
    (m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture,
  );
  return (
    (platform.variant ? candidates.find((m) => m.platform?.variant === platform.variant) : undefined) ??
    candidates[0]
  );
}

/** The platform of the machine this process runs on, in OCI terms (the runtime is local to it). */
export function hostPlatform(arch: string = process.arch): Platform {
  const architecture = (
    { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" } as Record<
      string,
      string
    >
  )[arch];
  return { os: "linux", architecture: architecture ?? arch };
}

/** The blobs a registry must hold for an image: its config and every distributable layer, once each. */
export function imageBlobs(manifest: Extract<Manifest, { kind: "image" }>): Descriptor[] {
  const seen = new Set<string>();
  return [manifest.config, ...manifest.layers].filter((d) => {
    if (d.urls?.length || /nondistributable|foreign/.test(d.mediaType) || seen.has(d.digest)) return false;
    seen.add(d.digest);
    return true;
  });
}
