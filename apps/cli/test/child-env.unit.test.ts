import { loadConfig } from "@edgeplane/config";
import { createSigner, createVerifier, generateSigningKey, parsePublicKeys } from "@edgeplane/queue";
import { generateCredentialsKeyPair } from "@edgeplane/registry";
import { describe, expect, it } from "vitest";
import { APPS } from "../src/apps.ts";
import { childEnvironment } from "../src/commands/up.ts";

// Each process `edgeplane up` starts gets the secrets it needs and no others.
describe("the environment of each child of edgeplane up", () => {
  const state = {
    key: generateSigningKey(),
    apiKey: generateSigningKey(),
    caKey: Buffer.alloc(32, 7).toString("base64"),
    credentialsKey: generateCredentialsKeyPair(),
    adminToken: "epa_admin-token-of-this-machine-0123456789",
  };
  const shared = {
    PATH: "/usr/bin",
    DATABASE_URL: "postgres://postgres@127.0.0.1:5432/edgeplane",
    EDGEPLANE_GATEWAY_DIR: "/tmp/edgeplane-gateway",
    // set in the operator's shell: passed on only where declared
    EDGEPLANE_REGISTRY_USERNAME: "ci-bot",
    EDGEPLANE_REGISTRY_PASSWORD: "registry-password",
    EDGEPLANE_EDGE_UPSTREAM: "127.0.0.1:5001",
    EDGEPLANE_GITHUB_TOKEN: "ghs_github-token",
    EDGEPLANE_SIGNING_KEY: "from-the-shell",
    EDGEPLANE_CA_KEY: undefined,
    SOME_OTHER_SECRET: "unrelated",
  };
  const envs = Object.fromEntries(APPS.map((app) => [app.name, childEnvironment(app, shared, state)]));
  const secrets = [
    state.key.privateKey,
    state.apiKey.privateKey,
    state.caKey,
    state.credentialsKey.privateKey,
    state.adminToken,
    "registry-password",
    "ghs_github-token",
    "from-the-shell",
    "unrelated",
  ];
  const holders = (secret: string) =>
    Object.entries(envs)
      .filter(([, env]) => Object.values(env).includes(secret))
      .map(([name]) => name)
      .sort();

  it("gives each secret only to the processes that use it", () => {
    expect(holders(state.caKey)).toEqual(["worker-ingress"]);
    expect(holders(state.adminToken)).toEqual(["api"]);
    expect(holders(state.credentialsKey.privateKey)).toEqual(["worker-stage"]);
    expect(holders(state.credentialsKey.publicKey)).toEqual(["api"]);
    expect(holders(state.apiKey.privateKey)).toEqual(["api"]);
    expect(holders(state.key.privateKey)).toEqual(
      ["janitor", "worker-github", "worker-ingress", "worker-reconcile", "worker-stage"].sort(),
    );
    expect(holders("registry-password")).toEqual(["worker-reconcile", "worker-stage"]);
    expect(holders("ghs_github-token")).toEqual(["worker-github"]);
    expect(holders("from-the-shell")).toEqual([]);
    expect(holders("unrelated")).toEqual([]);
    expect(envs.api?.PATH).toBe("/usr/bin"); // the rest is shared
    // and nothing else holds any of them
    const held = new Set(Object.values(envs).flatMap((env) => Object.values(env)));
    expect(secrets.filter((secret) => held.has(secret))).toEqual([
      state.key.privateKey,
      state.apiKey.privateKey,
      state.caKey,
      state.credentialsKey.privateKey,
      state.adminToken,
      "registry-password",
      "ghs_github-token",
    ]);
  });

  it("has the workers of the API's queues trust its key, and no other", () => {
    const job = createSigner(state.apiKey.privateKey).sign(
      { deploymentId: null, environmentId: "env_0a1b", projectId: "prj_0a1b", generation: 1, image: null },
      { queue: "stage-image", jobId: "stage-x" },
    );
    const trusts = (name: string) => {
      const keys = envs[name]?.EDGEPLANE_PUBLIC_KEYS ?? "";
      try {
        createVerifier(parsePublicKeys(keys), 60_000).verify(job);
        return true;
      } catch {
        return false;
      }
    };
    expect(
      APPS.map((a) => a.name)
        .filter(trusts)
        .sort(),
    ).toEqual(["api", "janitor", "worker-github", "worker-reconcile", "worker-stage"]);
  });

  it("is a valid configuration for every child", () => {
    for (const app of APPS) expect(() => loadConfig(app.schema, envs[app.name])).not.toThrow();
  });
});
