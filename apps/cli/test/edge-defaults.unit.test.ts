import { artifactConfig, loadConfig, stageEnv } from "@edgeplane/config";
import { generateSigningKey } from "@edgeplane/queue";
import { describe, expect, it } from "vitest";
import { edgeDefaults } from "../src/edge-defaults.ts";

// `edgeplane up` runs the artifact path by default: the edge and primary scripts/services.sh starts.
describe("the edge registry by default", () => {
  const key = generateSigningKey();
  const stage = (env: Record<string, string | undefined>) =>
    artifactConfig(
      loadConfig(stageEnv, {
        EDGEPLANE_SIGNING_KEY: key.privateKey,
        EDGEPLANE_PUBLIC_KEYS: `${key.kid}=${key.publicKey}`,
        ...env,
        ...edgeDefaults(env),
      }),
    );

  it("uses the local pair when neither variable is set", () => {
    expect(edgeDefaults({})).toEqual({
      EDGEPLANE_EDGE_REGISTRY: "127.0.0.1:5002",
      EDGEPLANE_EDGE_UPSTREAM: "127.0.0.1:5001",
    });
    expect(stage({}).edge).toEqual({ registry: "127.0.0.1:5002", upstream: "127.0.0.1:5001" });
  });

  it("follows the ports the services script was given", () => {
    expect(
      edgeDefaults({ EDGEPLANE_EDGE_REGISTRY_PORT: "6002", EDGEPLANE_PRIMARY_REGISTRY_PORT: "6001" }),
    ).toEqual({ EDGEPLANE_EDGE_REGISTRY: "127.0.0.1:6002", EDGEPLANE_EDGE_UPSTREAM: "127.0.0.1:6001" });
  });

  it("is off when both are set to the empty string", () => {
    const env = { EDGEPLANE_EDGE_REGISTRY: "", EDGEPLANE_EDGE_UPSTREAM: "" };
    expect(edgeDefaults(env)).toEqual({});
    expect(stage(env)).toMatchObject({ edge: null, primary: null });
  });

  it("leaves the operator's own values alone, and never completes half a pair", () => {
    const own = { EDGEPLANE_EDGE_REGISTRY: "10.0.0.5:5000", EDGEPLANE_EDGE_UPSTREAM: "ghcr.io" };
    expect(edgeDefaults(own)).toEqual({});
    expect(stage(own).edge).toEqual({ registry: "10.0.0.5:5000", upstream: "ghcr.io" });
    expect(edgeDefaults({ EDGEPLANE_EDGE_UPSTREAM: "ghcr.io" })).toEqual({});
    expect(() => stage({ EDGEPLANE_EDGE_REGISTRY: "10.0.0.5:5000" })).toThrow(/EDGEPLANE_EDGE_UPSTREAM/);
  });
});
