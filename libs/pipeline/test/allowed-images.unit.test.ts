import type { ProjectRow } from "@edgeplane/db";
import { DomainError } from "@edgeplane/domain";
import { describe, expect, it } from "vitest";
import { assertImageAllowed } from "../src/intent.ts";

const project = (allowedImages: string[]) => ({ name: "web", allowedImages }) as unknown as ProjectRow;

describe("allowedImages", () => {
  it("allows any image when the list is empty", () => {
    expect(() => assertImageAllowed(project([]), "anything.example/x/y:1")).not.toThrow();
  });

  it("allows images under a `host/prefix/` entry, and exactly a `host/repository` entry or below it", () => {
    const p = project(["ghcr.io/acme/", "127.0.0.1:5001/tools/web"]);
    for (const image of [
      "ghcr.io/acme/web:sha-1",
      `ghcr.io/acme/team/api@sha256:${"a".repeat(64)}`,
      "127.0.0.1:5001/tools/web:v1",
      "127.0.0.1:5001/tools/web/worker:v1",
    ]) {
      expect(() => assertImageAllowed(p, image), image).not.toThrow();
    }
  });

  it("refuses other registries, lookalike hosts and repositories that only share a prefix, with a 400", () => {
    const p = project(["ghcr.io/acme/", "127.0.0.1:5001/tools/web"]);
    for (const image of [
      "docker.io/acme/web:v1",
      "ghcr.io/acmeevil/web:v1",
      "ghcr.io.evil.test/acme/web:v1",
      "127.0.0.1:5002/tools/web:v1",
      "127.0.0.1:5001/tools/webhook:v1",
      "acme/web:v1",
    ]) {
      let caught: unknown;
      try {
        assertImageAllowed(p, image);
      } catch (error) {
        caught = error;
      }
      expect(caught, image).toBeInstanceOf(DomainError);
      expect((caught as DomainError).code).toBe("bad_request");
      expect((caught as DomainError).message).toContain("allowedImages");
    }
  });
});
