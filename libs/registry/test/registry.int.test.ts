import { parseImageRef } from "@edgeplane/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, publishTestImage } from "../../../test/support/images.ts";
import { LocalRegistry } from "../../../test/support/registry.ts";
import { TokenServer } from "../../../test/support/token-server.ts";
import {
  hostPlatform,
  ManifestNotFoundError,
  RegistryClient,
  RegistryError,
  RegistryUnavailableError,
  warmImage,
} from "../src/index.ts";

// A private primary with a real bearer challenge (a distribution registry with token auth, and a
// token service as ghcr.io runs one), and an edge registry caching it with its own credentials.
describe("registry client against a private primary and its edge", () => {
  const credentials = { username: "ci-bot", password: `pw-${Math.random().toString(36).slice(2)}` };
  const tokens = new TokenServer(credentials);
  let primary: LocalRegistry;
  let edge: LocalRegistry;
  const repository = `acme/private-${Math.random().toString(36).slice(2, 8)}`;
  let image = "";
  let digest = "";

  beforeAll(async () => {
    await tokens.start();
    primary = new LocalRegistry({
      name: "private-primary",
      tokenAuth: {
        realm: tokens.realm,
        service: tokens.service,
        issuer: tokens.issuer,
        rootCertPem: tokens.rootCertPem,
      },
    });
    await primary.start();
    edge = new LocalRegistry({ name: "private-edge", remote: primary, remoteCredentials: credentials });
    await edge.start();
    image = await publishTestImage(repository, "v1", {
      registry: primary.host,
      auth: credentials,
      removeLocal: true,
    });
  });

  afterAll(async () => {
    await edge?.destroy();
    await primary?.destroy();
    await tokens.stop();
    for (const img of await docker.listImages()) {
      for (const ref of [...(img.RepoTags ?? []), ...(img.RepoDigests ?? [])]) {
        const ours = [primary, edge].some((r) => r?.port && ref.startsWith(`${r.host}/`));
        if (ours)
          await docker
            .getImage(ref)
            .remove()
            .catch(() => {});
      }
    }
  });

  const withCredentialsFor = (host: string) =>
    new RegistryClient({ credentials: (registry) => (registry === host ? credentials : undefined) });

  it("resolves a tag through the bearer challenge with the primary's credentials", async () => {
    const client = withCredentialsFor(primary.host);
    digest = await client.resolveDigest(parseImageRef(image));
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const manifest = await client.getManifest(primary.host, repository, digest);
    expect(manifest.digest).toBe(digest);
    const granted = tokens.requests.filter((r) => r.granted);
    expect(granted.some((r) => r.scopes.includes(`repository:${repository}:pull`))).toBe(true);
  });

  it("tells a missing tag (wait for it) from a refusal (a human must act) from an outage (retry)", async () => {
    const client = withCredentialsFor(primary.host);
    await expect(
      client.resolveDigest(parseImageRef(`${primary.host}/${repository}:not-yet`)),
    ).rejects.toBeInstanceOf(ManifestNotFoundError);
    const anonymous = new RegistryClient();
    const refused = await anonymous.resolveDigest(parseImageRef(image)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RegistryError);
    expect(refused).not.toBeInstanceOf(RegistryUnavailableError);
    expect((refused as RegistryError).status).toBe(401);
    const down = new RegistryClient({ timeoutMs: 2000 });
    await expect(down.resolveDigest(parseImageRef("127.0.0.1:9/acme/x:v1"))).rejects.toBeInstanceOf(
      RegistryUnavailableError,
    );
  });

  it("never presents the credentials to another registry", async () => {
    const before = tokens.requests.length;
    const client = withCredentialsFor("ghcr.io");
    await expect(client.resolveDigest(parseImageRef(image))).rejects.toMatchObject({ status: 401 });
    const asked = tokens.requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((r) => r.authorization === null)).toBe(true);
  });

  it("warms the edge through its own credentials, which then serves the image while the primary is down", async () => {
    const client = new RegistryClient(); // the edge is open to the runtime; it holds the primary's credentials
    const report = await warmImage(client, {
      registry: edge.host,
      repository,
      digest,
      platform: hostPlatform(),
    });
    expect(report).toMatchObject({ imageDigest: digest, manifests: 1, unconfirmed: 0 });
    expect(report.blobs).toBeGreaterThanOrEqual(2); // config and at least one layer
    expect(report.bytes).toBeGreaterThan(100_000);

    await primary.stop();
    await expect(withCredentialsFor(primary.host).resolveDigest(parseImageRef(image))).rejects.toBeInstanceOf(
      RegistryUnavailableError,
    );
    const again = await warmImage(client, {
      registry: edge.host,
      repository,
      digest,
      platform: hostPlatform(),
    });
    expect(again).toEqual(report);
    const pulled = `${edge.host}/${repository}@${digest}`;
    await new Promise<void>((resolve, reject) =>
      docker.pull(pulled, (error: Error | null, stream: NodeJS.ReadableStream) => {
        if (error) return reject(error);
        docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
      }),
    );
    expect((await docker.getImage(pulled).inspect()).RepoDigests).toContain(pulled);
    await primary.start();
  });
});
