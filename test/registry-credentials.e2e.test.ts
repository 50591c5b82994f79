import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, publishTestImage } from "./support/images.ts";
import { LocalRegistry } from "./support/registry.ts";
import { TestSystem } from "./support/system.ts";
import { TokenServer } from "./support/token-server.ts";

// A private registry (bearer tokens for basic credentials, as ghcr.io) that only one project has
// credentials for. The credentials are write-only, sealed at rest, presented for that project's
// deployments only; another project naming the same image, by tag or by digest, is refused even
// though the runtime already holds the image.
describe("per-project registry credentials", () => {
  const credentials = { username: "acme-ci", password: `pw-${Math.random().toString(36).slice(2)}-secret` };
  const tokens = new TokenServer(credentials);
  let registry: LocalRegistry;
  const system = new TestSystem();
  const repo = `acme/private-${system.id}`;
  let image = "";
  let digest = "";

  beforeAll(async () => {
    await tokens.start();
    registry = new LocalRegistry({
      name: "private",
      tokenAuth: {
        realm: tokens.realm,
        service: tokens.service,
        issuer: tokens.issuer,
        rootCertPem: tokens.rootCertPem,
      },
    });
    await registry.start();
    image = await publishTestImage(repo, "v1", {
      registry: registry.host,
      message: "private v1",
      auth: credentials,
      removeLocal: true,
    });
    await system.start();
    for (const [name, withCredentials] of [
      ["owner", true],
      ["other", false],
    ] as const) {
      const res = await system.api("POST", "/v1/projects", {
        body: {
          name,
          domain: `${name}.creds.test`,
          port: 8080,
          healthcheckPath: "/healthz",
          allowedImages: [`${registry.host}/acme/`],
          ...(withCredentials ? { registryCredentials: { [registry.host]: credentials } } : {}),
        },
      });
      expect(res.status).toBe(201);
      expect(JSON.stringify(res.body)).not.toContain(credentials.password);
    }
  }, 120_000);

  afterAll(async () => {
    await system.stop();
    await registry.destroy();
    await tokens.stop();
    for (const ref of [image, `${registry.host}/${repo}@${digest}`]) {
      await docker
        .getImage(ref)
        .remove()
        .catch(() => {});
    }
  });

  it("shows which registries a project has credentials for, never the credentials", async () => {
    const res = await system.api<{ registryCredentials: string[] }>("GET", "/v1/projects/owner");
    expect(res.status).toBe(200);
    expect(res.body.registryCredentials).toEqual([registry.host]);
    expect(JSON.stringify(res.body)).not.toContain(credentials.password);
    expect(JSON.stringify(res.body)).not.toContain(credentials.username);
    const other = await system.api<{ registryCredentials: string[] }>("GET", "/v1/projects/other");
    expect(other.body.registryCredentials).toEqual([]);
  });

  it("keeps them sealed in Postgres", async () => {
    const sql = postgres(system.databaseUrl, { max: 1 });
    try {
      const rows = await sql`select registry_credentials from projects where name = 'owner'`;
      const stored = String(rows[0]?.registry_credentials);
      expect(stored.startsWith("edgeplane-box:v1:")).toBe(true);
      expect(stored).not.toContain(credentials.password);
      expect(
        Buffer.from(stored.slice("edgeplane-box:v1:".length), "base64").toString("latin1"),
      ).not.toContain(credentials.password);
    } finally {
      await sql.end();
    }
  });

  it("deploys the owner's private image with its credentials", async () => {
    const res = await system.api<{ id: string }>("POST", "/v1/deployments", {
      body: { project: "owner", environment: "dev", image },
    });
    expect(res.status).toBe(202);
    const done = await system.waitForDeployment(res.body.id);
    expect(done.status).toBe("ready");
    digest = String(done.digest);
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const page = await system.viaGateway("dev.owner.creds.test");
    expect(page).toEqual({ status: 200, text: expect.stringContaining("private v1") });
    // the token service saw the owner's credentials, for this repository only
    const granted = tokens.requests.filter((r) => r.granted);
    expect(granted.length).toBeGreaterThan(0);
    for (const request of granted) for (const scope of request.scopes) expect(scope).toContain(repo);
  });

  it("refuses the same image to a project without credentials, by tag and by digest", async () => {
    const before = tokens.requests.filter((r) => r.granted).length;
    for (const ref of [image, `${registry.host}/${repo}@${digest}`]) {
      const res = await system.api<{ id: string }>("POST", "/v1/deployments", {
        body: { project: "other", environment: "dev", image: ref },
      });
      expect(res.status).toBe(202);
      const done = await system.waitForDeployment(res.body.id, undefined, 90_000);
      expect(done.status).toBe("failed");
      expect(done.error).toMatch(/refused .*registryCredentials for 127\.0\.0\.1:/);
      expect(done.error).not.toContain(credentials.password);
    }
    // the owner's credentials were never presented for the other project
    expect(tokens.requests.filter((r) => r.granted).length).toBe(before);
    expect((await system.viaGateway("dev.other.creds.test")).status).not.toBe(200);
    expect(system.logs.join("\n")).not.toContain(credentials.password);
  });

  it("refuses malformed credentials with 400, changing nothing", async () => {
    for (const registryCredentials of [
      { "https://ghcr.io": credentials },
      { "ghcr.io": { username: "a" } },
      { "ghcr.io": { ...credentials, token: "x" } },
    ]) {
      const res = await system.api<{ error: { code: string; message: string } }>(
        "PATCH",
        "/v1/projects/owner",
        {
          body: { registryCredentials },
        },
      );
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(res.body.error.message).toContain("registryCredentials");
      expect(JSON.stringify(res.body)).not.toContain(credentials.password);
    }
    const after = await system.api<{ registryCredentials: string[] }>("GET", "/v1/projects/owner");
    expect(after.body.registryCredentials).toEqual([registry.host]);
  });

  it("removes them with null", async () => {
    const res = await system.api<{ registryCredentials: string[] }>("PATCH", "/v1/projects/owner", {
      body: { registryCredentials: null },
    });
    expect(res.status).toBe(200);
    expect(res.body.registryCredentials).toEqual([]);
  });
});
