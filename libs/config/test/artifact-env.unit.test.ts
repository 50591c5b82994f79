import { describe, expect, it } from "vitest";
import { artifactConfig, ConfigError, janitorEnv, loadConfig, reconcileEnv, stageEnv } from "../src/index.ts";

const base = { EDGEPLANE_SIGNING_KEY: "k", EDGEPLANE_PUBLIC_KEYS: "a=b" };

describe("artifact path configuration", () => {
  it("has no edge by default: images are pulled from their own registry; staging waits 15 minutes", () => {
    const env = loadConfig(stageEnv, base);
    expect(artifactConfig(env)).toEqual({ edge: null, primary: null, credentials: null, insecure: [] });
    expect(env.EDGEPLANE_STAGE_WAIT_MS).toBe(15 * 60 * 1000);
    expect(loadConfig(janitorEnv, base).EDGEPLANE_IMAGE_GC_GRACE_MS).toBe(10 * 60 * 1000);
  });

  it("reads the edge, its upstream and the primary's credentials", () => {
    const env = loadConfig(reconcileEnv, {
      ...base,
      EDGEPLANE_EDGE_REGISTRY: "127.0.0.1:5002",
      EDGEPLANE_EDGE_UPSTREAM: "ghcr.io",
      EDGEPLANE_REGISTRY_USERNAME: "ci",
      EDGEPLANE_REGISTRY_PASSWORD: "s3cret",
      EDGEPLANE_INSECURE_REGISTRIES: "10.0.0.5:5000, edge.internal",
    });
    expect(artifactConfig(env)).toEqual({
      edge: { registry: "127.0.0.1:5002", upstream: "ghcr.io" },
      primary: "ghcr.io",
      credentials: { username: "ci", password: "s3cret" },
      insecure: ["10.0.0.5:5000", "edge.internal"],
    });
  });

  it("treats empty variables (as compose files set them) as unset", () => {
    const env = loadConfig(stageEnv, { ...base, EDGEPLANE_EDGE_REGISTRY: "", EDGEPLANE_EDGE_UPSTREAM: "" });
    expect(artifactConfig(env).edge).toBeNull();
  });

  it.each([
    [{ EDGEPLANE_EDGE_REGISTRY: "127.0.0.1:5002" }, "EDGEPLANE_EDGE_UPSTREAM"],
    [{ EDGEPLANE_EDGE_REGISTRY: "http://127.0.0.1:5002" }, "EDGEPLANE_EDGE_REGISTRY"],
    [{ EDGEPLANE_INSECURE_REGISTRIES: "http://10.0.0.5:5000" }, "EDGEPLANE_INSECURE_REGISTRIES"],
    [{ EDGEPLANE_EDGE_REGISTRY: "ghcr.io", EDGEPLANE_EDGE_UPSTREAM: "ghcr.io" }, "EDGEPLANE_EDGE_REGISTRY"],
    [
      { EDGEPLANE_EDGE_UPSTREAM: "ghcr.io", EDGEPLANE_REGISTRY_USERNAME: "ci" },
      "EDGEPLANE_REGISTRY_PASSWORD",
    ],
    [
      { EDGEPLANE_REGISTRY_USERNAME: "ci", EDGEPLANE_REGISTRY_PASSWORD: "pw-never-shown" },
      "EDGEPLANE_EDGE_UPSTREAM",
    ],
    [{ EDGEPLANE_STAGE_WAIT_MS: "-1" }, "EDGEPLANE_STAGE_WAIT_MS"],
  ])("refuses %j naming %s, never showing a value", (vars, variable) => {
    let caught: unknown;
    try {
      loadConfig(stageEnv, { ...base, ...vars });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toContain(variable);
    expect((caught as Error).message).not.toContain("pw-never-shown");
  });
});
