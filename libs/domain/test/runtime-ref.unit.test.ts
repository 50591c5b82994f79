import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseImageRef, runtimeRef, servedByEdge } from "../src/index.ts";

const D = `sha256:${"ab".repeat(32)}`;
const edge = { registry: "127.0.0.1:5002", upstream: "ghcr.io" };

describe("runtimeRef: what the runtime pulls and runs", () => {
  it("goes through the edge for images of the primary it caches, pinned by digest", () => {
    expect(runtimeRef("ghcr.io/acme/web:sha-1", D, edge)).toBe(`127.0.0.1:5002/acme/web@${D}`);
    expect(runtimeRef(parseImageRef("ghcr.io/acme/team/web:main"), D, edge)).toBe(
      `127.0.0.1:5002/acme/team/web@${D}`,
    );
  });

  it("drops the tag and any digest of the request: the staged digest is what runs", () => {
    const other = `sha256:${"cd".repeat(32)}`;
    expect(runtimeRef(`ghcr.io/acme/web:v1@${other}`, D, edge)).toBe(`127.0.0.1:5002/acme/web@${D}`);
  });

  it("pulls straight from their registry images of any other registry, or with no edge", () => {
    expect(runtimeRef("registry.example.com/acme/web:v1", D, edge)).toBe(
      `registry.example.com/acme/web@${D}`,
    );
    expect(runtimeRef("ghcr.io/acme/web:v1", D, null)).toBe(`ghcr.io/acme/web@${D}`);
  });

  it("matches the upstream by host and port exactly", () => {
    const local = { registry: "127.0.0.1:5002", upstream: "127.0.0.1:5001" };
    expect(runtimeRef("127.0.0.1:5001/acme/web:v1", D, local)).toBe(`127.0.0.1:5002/acme/web@${D}`);
    expect(runtimeRef("127.0.0.1:5003/acme/web:v1", D, local)).toBe(`127.0.0.1:5003/acme/web@${D}`);
    expect(servedByEdge(parseImageRef("ghcr.io.evil.test/acme/web:v1"), edge)).toBe(false);
  });

  it("caches Docker Hub images under their full path (library/ for official ones)", () => {
    const hub = { registry: "127.0.0.1:5002", upstream: "docker.io" };
    expect(runtimeRef("nginx:1.27", D, hub)).toBe(`127.0.0.1:5002/library/nginx@${D}`);
  });

  it("always yields a reference that parses back to the same repository and digest", () => {
    const component = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    fc.assert(
      fc.property(fc.array(component, { minLength: 1, maxLength: 3 }), fc.boolean(), (parts, viaEdge) => {
        const repository = parts.join("/");
        const ref = runtimeRef(`ghcr.io/${repository}:t`, D, viaEdge ? edge : null);
        const parsed = parseImageRef(ref);
        expect(parsed).toMatchObject({
          repository,
          digest: D,
          tag: null,
          registry: viaEdge ? edge.registry : "ghcr.io",
        });
      }),
    );
  });
});
