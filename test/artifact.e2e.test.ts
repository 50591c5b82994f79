import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, publishTestImage } from "./support/images.ts";
import { LocalRegistry } from "./support/registry.ts";
import { TestSystem } from "./support/system.ts";

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const STAGE_WAIT_MS = 25_000;

// The artifact path, driven over HTTP: CI pushes to a primary registry (plays ghcr.io), edgeplane
// stages through an edge registry (a pull-through cache of it) and runs `edge/repo@digest`. The two
// registries belong to this test alone, so it can stop the primary without disturbing anyone.
describe("artifact path: primary → edge → runtime", () => {
  const primary = new LocalRegistry({ name: "primary" });
  const edge = new LocalRegistry({ name: "edge", remote: primary });
  const system = new TestSystem();
  const repo = `acme/art-${system.id}`;
  const tagRef = (tag: string) => `${primary.host}/${repo}:${tag}`;
  const publish = (tag: string, message: string) =>
    publishTestImage(repo, tag, { registry: primary.host, message, removeLocal: true });
  const deploy = (environment: string, image: string) =>
    system.api("POST", "/v1/deployments", { body: { project: "art", environment, image } });
  const edgeRef = (digest: string) => `${edge.host}/${repo}@${digest}`;
  const onRuntime = (image: string) =>
    docker
      .getImage(image)
      .inspect()
      .then(
        () => true,
        () => false,
      );
  const digests: Record<string, string> = {};

  beforeAll(async () => {
    await primary.start();
    await edge.start();
    await publish("main", "art v1");
    await system.start({
      EDGEPLANE_EDGE_REGISTRY: edge.host,
      EDGEPLANE_EDGE_UPSTREAM: primary.host,
      EDGEPLANE_STAGE_WAIT_MS: String(STAGE_WAIT_MS),
      EDGEPLANE_SWEEP_INTERVAL_MS: "1000",
      EDGEPLANE_IMAGE_GC_GRACE_MS: "3000",
    });
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "art",
        domain: "art.test",
        port: 8080,
        healthcheckPath: "/healthz",
        allowedImages: [`${primary.host}/acme/`],
      },
    });
    expect(project.status).toBe(201);
    expect(project.body.allowedImages).toEqual([`${primary.host}/acme/`]);
  });

  afterAll(async () => {
    await system.stop();
    await edge.destroy();
    await primary.destroy();
    // the refs this test's registries put into Docker (untagged only: nothing forced)
    const ours = (ref: string) => ref.startsWith(`${primary.host}/`) || ref.startsWith(`${edge.host}/`);
    for (const image of await docker.listImages()) {
      for (const ref of [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter(ours)) {
        await docker
          .getImage(ref)
          .remove()
          .catch(() => {});
      }
    }
  });

  it("deploys a tag pinned to the digest resolved at the primary, running it from the edge", async () => {
    const atPrimary = await primaryDigest(primary.host, repo, "main");
    const res = await deploy("dev", tagRef("main"));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ image: tagRef("main"), digest: null, statusDetail: null });

    const done = await system.waitForDeployment(res.body.id);
    expect(done.status).toBe("ready");
    expect(done.digest).toBe(atPrimary);
    expect(done.statusDetail).toBeNull();
    digests.v1 = done.digest ?? "";

    const env = await system.waitForEnvironment("art", "dev", (e) => e.status === "ready");
    expect(env).toMatchObject({ image: tagRef("main"), digest: atPrimary });
    expect(await system.viaGateway("dev.art.test")).toEqual({ status: 200, text: "art v1\n" });
    const containers = await system.containers(env.id);
    expect(containers.map((c) => c.Image)).toEqual([edgeRef(atPrimary)]);
    expect(await onRuntime(edgeRef(atPrimary))).toBe(true);
  });

  it("a tag moved at the primary changes nothing running until the next deploy", async () => {
    const before = (await system.api("GET", "/v1/projects/art/environments/dev")).body;
    const [container] = await system.containers(before.id);
    await publish("main", "art v2");
    const moved = await primaryDigest(primary.host, repo, "main");
    expect(moved).not.toBe(digests.v1);

    await sleep(3000); // a few sweeps and resyncs: nothing may follow the tag on its own
    const after = (await system.api("GET", "/v1/projects/art/environments/dev")).body;
    expect(after).toMatchObject({ status: "ready", digest: digests.v1, generation: before.generation });
    expect((await system.containers(before.id)).map((c) => c.Id)).toEqual([container?.Id]);
    expect(await system.viaGateway("dev.art.test")).toEqual({ status: 200, text: "art v1\n" });

    const res = await deploy("dev", tagRef("main"));
    const done = await system.waitForDeployment(res.body.id);
    expect(done).toMatchObject({ status: "ready", image: tagRef("main"), digest: moved });
    digests.v2 = moved;
    expect(await system.viaGateway("dev.art.test")).toEqual({ status: 200, text: "art v2\n" });
    const env = (await system.api("GET", "/v1/projects/art/environments/dev")).body;
    expect((await system.containers(env.id)).map((c) => c.Image)).toContain(edgeRef(moved));
  });

  it("waits for an image pushed after the request, and fails naming one that never comes", async () => {
    const requested = Date.now();
    const [late, never] = await Promise.all([
      deploy("pr-11", tagRef("late")),
      deploy("pr-12", tagRef("never")),
    ]);
    expect([late.status, never.status]).toEqual([202, 202]);

    // both show they are waiting, not failing
    for (const id of [late.body.id, never.body.id]) {
      const waiting = await system.waitForDeployment(
        id,
        (d) => d.statusDetail === "waiting for image",
        10_000,
      );
      expect(waiting.status).toBe("staging");
      expect(waiting.error).toBeNull();
    }

    await sleep(Math.max(0, requested + 10_000 - Date.now()));
    await publish("late", "art late");
    const lateDone = await system.waitForDeployment(late.body.id, undefined, 30_000);
    expect(lateDone).toMatchObject({ status: "ready", statusDetail: null, error: null });
    expect(lateDone.digest).toMatch(DIGEST);
    expect(
      lateDone.events.some((e: { message: string | null }) =>
        e.message?.includes(`waiting for ${tagRef("late")}`),
      ),
    ).toBe(true);
    expect(await system.viaGateway("pr-11.art.test")).toEqual({ status: 200, text: "art late\n" });

    const neverDone = await system.waitForDeployment(never.body.id, undefined, STAGE_WAIT_MS + 20_000);
    expect(neverDone.status).toBe("failed");
    expect(neverDone.statusDetail).toBeNull();
    expect(neverDone.error).toContain(tagRef("never"));
    expect(neverDone.error).toMatch(/not found/);
    expect(neverDone.error).toContain("after waiting 25s");
    expect(
      Date.parse(neverDone.phases.failed ?? "") - Date.parse(neverDone.phases.queued ?? ""),
    ).toBeGreaterThanOrEqual(STAGE_WAIT_MS);
  });

  it("refuses an image outside the project's allowedImages with 400 and stores nothing", async () => {
    for (const image of [`127.0.0.1:1/acme/web:v1`, `${primary.host}/other/web:v1`, `ghcr.io/acme/web:v1`]) {
      const res = await deploy("pr-13", image);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(res.body.error.message).toContain("allowedImages");
    }
    expect((await system.api("GET", "/v1/projects/art/environments/pr-13")).status).toBe(404);
    const list = (await system.api("GET", "/v1/projects/art/environments")).body;
    expect(list.environments.map((e: { name: string }) => e.name)).not.toContain("pr-13");
  });

  it("removes from the runtime the images no environment uses, and never one it did not pull", async () => {
    // not pulled by edgeplane, though named like its images: must survive every sweep
    const stranger = await docker.createContainer({
      Image: process.env.EDGEPLANE_TEST_BASE_IMAGE ?? "edgeplane-test/httpd:base",
    });
    await stranger.commit({ repo: `${edge.host}/${repo}`, tag: "not-pulled" });
    await stranger.remove({ force: true });

    // v1 is unused since dev moved to v2; pr-11 goes away now
    const pr11 = (await system.api("GET", "/v1/projects/art/environments/pr-11")).body;
    expect((await system.api("DELETE", "/v1/projects/art/environments/pr-11")).status).toBe(202);
    await system.waitForEnvironment("art", "pr-11", (e) => e.status === "destroyed");
    const deadline = Date.now() + 30_000;
    while (
      Date.now() < deadline &&
      ((await onRuntime(edgeRef(digests.v1 ?? ""))) || (await onRuntime(edgeRef(pr11.digest))))
    ) {
      await sleep(250);
    }
    expect(await onRuntime(edgeRef(digests.v1 ?? ""))).toBe(false);
    expect(await onRuntime(edgeRef(pr11.digest))).toBe(false);
    // in use by dev: kept
    expect(await onRuntime(edgeRef(digests.v2 ?? ""))).toBe(true);
    expect(await onRuntime(`${edge.host}/${repo}:not-pulled`)).toBe(true);
    expect(await system.viaGateway("dev.art.test")).toEqual({ status: 200, text: "art v2\n" });
  });

  it("with the primary down, redeploys a staged digest from the edge, and a staged tag as last staged", async () => {
    await primary.stop();
    expect(
      await fetch(`http://${primary.host}/v2/`).then(
        () => "up",
        () => "down",
      ),
    ).toBe("down");
    // v1 is gone from the runtime (previous test): only the edge can provide it now
    expect(await onRuntime(edgeRef(digests.v1 ?? ""))).toBe(false);

    const byDigest = await deploy("dev", `${primary.host}/${repo}@${digests.v1}`);
    expect(byDigest.status).toBe(202);
    const done = await system.waitForDeployment(byDigest.body.id);
    expect(done).toMatchObject({ status: "ready", digest: digests.v1, error: null });
    expect(await system.viaGateway("dev.art.test")).toEqual({ status: 200, text: "art v1\n" });
    const env = (await system.api("GET", "/v1/projects/art/environments/dev")).body;
    expect((await system.containers(env.id)).map((c) => c.Image)).toContain(edgeRef(digests.v1 ?? ""));

    // the tag cannot be resolved now: the digest it was last staged as is used, and said so
    const byTag = await deploy("dev", tagRef("main"));
    const tagDone = await system.waitForDeployment(byTag.body.id);
    expect(tagDone).toMatchObject({ status: "ready", digest: digests.v2, error: null });
    expect(
      tagDone.events.some((e: { message: string | null }) =>
        e.message?.includes("primary registry unreachable"),
      ),
    ).toBe(true);
    expect(await system.viaGateway("dev.art.test")).toEqual({ status: 200, text: "art v2\n" });
  });
});

/** The digest the registry serves for a tag now, asked the way any OCI client asks. */
async function primaryDigest(registry: string, repository: string, tag: string): Promise<string> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      Accept:
        "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
    },
  });
  const digest = response.headers.get("docker-content-digest") ?? "";
  expect(digest).toMatch(DIGEST);
  return digest;
}
