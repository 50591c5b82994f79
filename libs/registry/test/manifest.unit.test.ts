import { describe, expect, it } from "vitest";
import { hostPlatform, imageBlobs, parseManifest, RegistryError, selectPlatform } from "../src/index.ts";

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

const image = {
  schemaVersion: 2,
  mediaType: "application/vnd.docker.distribution.manifest.v2+json",
  config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 945, digest: d(1) },
  layers: [
    { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 100, digest: d(2) },
    { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 100, digest: d(3) },
    { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 100, digest: d(2) },
    {
      mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      size: 9,
      digest: d(4),
      urls: ["https://x"],
    },
  ],
};

const index = {
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [
    {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: 1,
      digest: d(10),
      platform: { os: "linux", architecture: "arm", variant: "v6" },
    },
    {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: 1,
      digest: d(11),
      platform: { os: "linux", architecture: "arm", variant: "v7" },
    },
    {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: 1,
      digest: d(12),
      platform: { os: "linux", architecture: "amd64" },
    },
    {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: 1,
      digest: d(13),
      platform: { os: "unknown", architecture: "unknown" },
    },
  ],
};

describe("manifests", () => {
  it("reads an image manifest: its config and layers", () => {
    const parsed = parseManifest(JSON.stringify(image));
    expect(parsed.kind).toBe("image");
    if (parsed.kind !== "image") return;
    expect(parsed.config.digest).toBe(d(1));
    expect(parsed.layers.map((l) => l.digest)).toEqual([d(2), d(3), d(2), d(4)]);
  });

  it("lists each blob a cache must hold once, without non-distributable layers", () => {
    const parsed = parseManifest(JSON.stringify(image));
    if (parsed.kind !== "image") throw new Error("not an image");
    expect(imageBlobs(parsed).map((b) => b.digest)).toEqual([d(1), d(2), d(3)]);
  });

  it("reads an index, the media type from the header when the body has none", () => {
    const { mediaType: _, ...bare } = index;
    const parsed = parseManifest(
      Buffer.from(JSON.stringify(bare)),
      "application/vnd.oci.image.index.v1+json; charset=utf-8",
    );
    expect(parsed).toMatchObject({ kind: "index", mediaType: "application/vnd.oci.image.index.v1+json" });
  });

  it("picks the runtime's platform from an index, the exact variant first", () => {
    const parsed = parseManifest(JSON.stringify(index));
    if (parsed.kind !== "index") throw new Error("not an index");
    expect(selectPlatform(parsed, { os: "linux", architecture: "amd64" })?.digest).toBe(d(12));
    expect(selectPlatform(parsed, { os: "linux", architecture: "arm", variant: "v7" })?.digest).toBe(d(11));
    expect(selectPlatform(parsed, { os: "linux", architecture: "arm" })?.digest).toBe(d(10));
    expect(selectPlatform(parsed, { os: "linux", architecture: "s390x" })).toBeUndefined();
  });

  it("refuses schema 1, malformed JSON and descriptors without a valid digest", () => {
    expect(() => parseManifest(JSON.stringify({ schemaVersion: 1, fsLayers: [] }))).toThrow(/schema 1/);
    expect(() => parseManifest("{nope")).toThrow(RegistryError);
    const bad = { ...image, layers: [{ mediaType: "x", size: 1, digest: "sha256:zz" }] };
    expect(() => parseManifest(JSON.stringify(bad))).toThrow(/layers\[0\]/);
  });

  it("names the host platform in OCI terms", () => {
    expect(hostPlatform("x64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(hostPlatform("arm64")).toEqual({ os: "linux", architecture: "arm64" });
  });
});
