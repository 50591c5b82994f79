import { describe, expect, it } from "vitest";
import {
  environmentKind,
  environmentName,
  environmentUrl,
  formatImageRef,
  parseImageRef,
} from "../src/index.ts";

describe("environment names", () => {
  it.each(["pr-1908", "dev", "staging", "a", "x1-2"])("accepts %s", (name) => {
    expect(environmentName.safeParse(name).success).toBe(true);
  });
  it.each(["", "-a", "a-", "PR-1", "a_b", "a.b", "a b", "pr-1;rm", "../x", "é", "a".repeat(49)])(
    "refuses %j",
    (name) => {
      expect(environmentName.safeParse(name).success).toBe(false);
    },
  );
  it("tells preview from fixed", () => {
    expect(environmentKind("pr-12")).toBe("preview");
    expect(environmentKind("staging")).toBe("fixed");
  });
  it("omits default ports from URLs", () => {
    expect(environmentUrl("pr-1.preview.test", false, { scheme: "http", port: 8080 })).toBe(
      "http://pr-1.preview.test:8080",
    );
    expect(environmentUrl("pr-1.preview.test", false, { scheme: "https", port: 443 })).toBe(
      "https://pr-1.preview.test",
    );
    // a TLS project is shown on the gateway's HTTPS port, whatever the public scheme
    expect(environmentUrl("pr-1.preview.test", true, { scheme: "http", port: 8080, httpsPort: 8443 })).toBe(
      "https://pr-1.preview.test:8443",
    );
    expect(environmentUrl("pr-1.preview.test", true, { scheme: "http", port: 8080 })).toBe(
      "https://pr-1.preview.test",
    );
  });
});

describe("image references", () => {
  it("parses registry, port, path and tag", () => {
    expect(parseImageRef("127.0.0.1:5001/acme/web:sha-1")).toEqual({
      registry: "127.0.0.1:5001",
      repository: "acme/web",
      tag: "sha-1",
      digest: null,
    });
  });
  it("parses digests and Docker Hub short names", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const ref = parseImageRef(`ghcr.io/acme/web@${digest}`);
    expect(ref.digest).toBe(digest);
    expect(parseImageRef("nginx:1.27").repository).toBe("library/nginx");
    expect(formatImageRef(parseImageRef("localhost:5000/a/b:c"))).toBe("localhost:5000/a/b:c");
  });
  it.each([
    "",
    "ghcr.io/acme/web",
    "ghcr.io/Acme/web:1",
    "ghcr.io/acme/web:",
    "ghcr.io/acme/web:-x",
    "ghcr.io/acme/web@sha256:zz",
    "ghcr.io/acme/web:1 ; rm -rf /",
    "ghcr.io//web:1",
    "ghcr.io/acme/web:1\n",
  ])("refuses %j", (input) => {
    expect(() => parseImageRef(input)).toThrow();
  });
});
