import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGithub, pullRequestPayload, type RecordedCall, signedDelivery } from "./support/github.ts";
import { docker, publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

// Pull requests drive previews through signed webhooks only; the janitor leaves nothing behind;
// status reaches the pull request through GitHub's REST API (a recording stand-in on loopback).
describe("GitHub pull requests and the janitor", () => {
  const system = new TestSystem();
  const github = new FakeGithub();
  const repository = `acme/web-${system.id}`;
  const imageRepo = `acme/gh-${system.id}`;
  const secret = `whsec_${randomBytes(16).toString("hex")}`;
  const sha = (n: number) => randomBytes(20).toString("hex").slice(0, 39) + String(n % 10);
  const shas = { open: sha(1), sync: sha(2), late: sha(3), other: sha(4) };
  let clock = Date.parse("2026-11-01T10:00:00Z");
  const tick = () => {
    clock += 60_000;
    return new Date(clock);
  };

  const send = async (
    action: string,
    number: number,
    headSha: string,
    extra: { updatedAt?: Date; draft?: boolean; fork?: boolean; delivery?: string } = {},
  ) => {
    const payload = pullRequestPayload(action, {
      repository,
      number,
      sha: headSha,
      updatedAt: extra.updatedAt ?? tick(),
      draft: extra.draft,
      fork: extra.fork,
    });
    const delivery = await signedDelivery(secret, "pull_request", payload, extra.delivery ?? randomUUID());
    return system.post("/webhooks/github", delivery.body, delivery.headers);
  };
  const env = (name: string) =>
    system.api("GET", `/v1/projects/web/environments/${name}`).then((r) => r.body);

  beforeAll(async () => {
    await github.start();
    await Promise.all([
      publishTestImage(imageRepo, `sha-${shas.open}`, { message: "pr build 1" }),
      publishTestImage(imageRepo, `sha-${shas.sync}`, { message: "pr build 2" }),
      publishTestImage(imageRepo, `sha-${shas.other}`, { message: "pr build other" }),
    ]);
    await system.start({
      EDGEPLANE_GITHUB_TOKEN: "ghs_test_token_for_loopback",
      EDGEPLANE_GITHUB_API_URL: github.url,
      EDGEPLANE_SWEEP_INTERVAL_MS: "1000",
    });
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "web",
        domain: "preview.test",
        port: 8080,
        healthcheckPath: "/healthz",
        repository,
        webhookSecret: secret,
        previewImage: `127.0.0.1:5001/${imageRepo}:sha-{sha}`,
      },
    });
    expect(project.status).toBe(201);
    expect(JSON.stringify(project.body)).not.toContain(secret);
    expect(project.body.webhookSecretSet).toBe(true);
  });
  afterAll(async () => {
    await system.stop();
    await github.stop();
  });

  it("answers ping and refuses unsigned, forged, unknown and malformed deliveries", async () => {
    const ping = await signedDelivery(
      secret,
      "ping",
      { zen: "Keep it logically awesome.", hook_id: 1, repository: { full_name: repository } },
      randomUUID(),
    );
    expect((await system.post("/webhooks/github", ping.body, ping.headers)).status).toBe(202);

    const payload = pullRequestPayload("opened", {
      repository,
      number: 99,
      sha: shas.other,
      updatedAt: tick(),
    });
    const good = await signedDelivery(secret, "pull_request", payload, randomUUID());
    const { "x-hub-signature-256": _, ...unsigned } = good.headers;
    const noSig = await system.post("/webhooks/github", good.body, unsigned);
    expect(noSig.status).toBe(401);
    expect(noSig.body.error.code).toBe("unauthorized");
    const forged = await signedDelivery("not-the-secret-at-all", "pull_request", payload, randomUUID());
    expect((await system.post("/webhooks/github", forged.body, forged.headers)).status).toBe(401);
    const tampered = await system.post(
      "/webhooks/github",
      good.body.replace('"number":99', '"number":98'),
      good.headers,
    );
    expect(tampered.status).toBe(401);
    const other = await signedDelivery(
      secret,
      "pull_request",
      { ...payload, repository: { full_name: "nobody/else" } },
      randomUUID(),
    );
    expect((await system.post("/webhooks/github", other.body, other.headers)).status).toBe(404);
    const garbage = await system.post("/webhooks/github", "{not json", good.headers);
    expect(garbage.status).toBe(400);
    // nothing was created by any of them
    expect((await system.api("GET", "/v1/projects/web/environments/pr-99")).status).toBe(404);
  });

  it("opened creates pr-N and serves the templated image; a redelivery does nothing twice", async () => {
    const delivery = randomUUID();
    const openedAt = tick();
    const res = await send("opened", 11, shas.open, { delivery, updatedAt: openedAt });
    expect(res.status).toBe(202);
    expect(res.body.outcomes[0]).toMatchObject({ project: "web", environment: "pr-11", action: "deploy" });
    const deployment = await system.waitForDeployment(res.body.outcomes[0].deploymentId);
    expect(deployment.status).toBe("ready");
    const e = await env("pr-11");
    expect(e).toMatchObject({
      status: "ready",
      kind: "preview",
      pullRequest: { number: 11, headSha: shas.open, state: "open" },
    });
    expect(await system.viaGateway("pr-11.preview.test")).toEqual({ status: 200, text: "pr build 1\n" });

    const again = await send("opened", 11, shas.open, { delivery });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("duplicate");
    expect((await env("pr-11")).generation).toBe(e.generation);

    // the same signed event replayed under a new delivery id (the signature does not cover it) changes nothing
    const replayed = await send("opened", 11, shas.open, { updatedAt: openedAt });
    expect(replayed.status).toBe(200);
    expect(replayed.body.status).toBe("duplicate");
    expect((await env("pr-11")).generation).toBe(e.generation);
  });

  it("synchronize redeploys the new head", async () => {
    const res = await send("synchronize", 11, shas.sync);
    expect(res.status).toBe(202);
    const deployment = await system.waitForDeployment(res.body.outcomes[0].deploymentId);
    expect(deployment.status).toBe("ready");
    expect(await system.viaGateway("pr-11.preview.test")).toEqual({ status: 200, text: "pr build 2\n" });
  });

  it("reports a GitHub Deployment per deploy, its statuses and one sticky comment", async () => {
    const deadline = Date.now() + 15_000;
    while (!github.statuses().includes("success") && Date.now() < deadline) await sleep(100);
    const deployments = github.calls.filter(
      (c) => c.method === "POST" && c.path === `/repos/${repository}/deployments`,
    );
    expect(deployments.length).toBeGreaterThanOrEqual(2);
    expect(deployments.map((c) => c.body.ref)).toEqual(expect.arrayContaining([shas.open, shas.sync]));
    expect(deployments[0]?.body).toMatchObject({
      environment: "web/pr-11",
      transient_environment: true,
      production_environment: false,
    });
    expect(github.statuses()).toEqual(expect.arrayContaining(["in_progress", "success"]));
    const success = github.calls.find((c) => c.path.endsWith("/statuses") && c.body.state === "success");
    expect(success?.body.environment_url).toBe(`http://pr-11.preview.test:${system.gatewayPort}`);
    expect(github.calls.every((c) => c.auth === "Bearer ghs_test_token_for_loopback")).toBe(true);
    const comments = github.commentsOn(repository, 11);
    expect(comments).toHaveLength(1);
    expect(github.calls.some((c) => c.method === "PATCH")).toBe(true);
  });

  it("closed removes the container and the route and reports inactive", async () => {
    const e = await env("pr-11");
    const closedAt = tick();
    const res = await send("closed", 11, shas.sync, { updatedAt: closedAt });
    expect(res.status).toBe(202);
    expect(res.body.outcomes[0].action).toBe("teardown");
    await system.waitForEnvironment("web", "pr-11", (x) => x.status === "destroyed", 60_000);
    expect(await system.containers(e.id)).toHaveLength(0);
    expect((await system.viaGateway("pr-11.preview.test")).status).toBe(410); // the "removed" page, no route
    // the reporter posts the status, then updates the comment: wait for both
    const deadline = Date.now() + 15_000;
    const reported = () =>
      github.statuses().includes("inactive") &&
      /Torn down/.test(github.commentsOn(repository, 11)[0]?.body ?? "");
    while (!reported() && Date.now() < deadline) await sleep(100);
    expect(github.statuses()).toContain("inactive");
    expect(github.commentsOn(repository, 11)).toHaveLength(1);
    expect(github.commentsOn(repository, 11)[0]?.body).toMatch(/Torn down/);

    // a synchronize sent before the close but delivered after it changes nothing
    const late = await send("synchronize", 11, shas.late, {
      updatedAt: new Date(closedAt.getTime() - 30_000),
    });
    expect(late.status).toBe(202);
    expect(late.body.outcomes[0].action).toBe("stale");
    await sleep(1500);
    expect((await env("pr-11")).status).toBe("destroyed");
    expect(await system.containers(e.id)).toHaveLength(0);
  });

  it("with a required label, removing it tears the preview down", async () => {
    expect(
      (await system.api("PATCH", "/v1/projects/web", { body: { requiredLabel: "preview" } })).status,
    ).toBe(200);
    try {
      const labelled = pullRequestPayload("opened", {
        repository,
        number: 41,
        sha: shas.other,
        updatedAt: tick(),
        labels: ["preview"],
      });
      const opened = await signedDelivery(secret, "pull_request", labelled, randomUUID());
      const res = await system.post("/webhooks/github", opened.body, opened.headers);
      expect(res.body.outcomes[0]).toMatchObject({ action: "deploy" });
      expect((await system.waitForDeployment(res.body.outcomes[0].deploymentId)).status).toBe("ready");
      const e = await env("pr-41");

      const unlabeled = pullRequestPayload("unlabeled", {
        repository,
        number: 41,
        sha: shas.other,
        updatedAt: tick(),
        labels: [],
      });
      unlabeled.label = { name: "preview" };
      const removed = await signedDelivery(secret, "pull_request", unlabeled, randomUUID());
      const gone = await system.post("/webhooks/github", removed.body, removed.headers);
      expect(gone.body.outcomes[0]).toMatchObject({ action: "teardown", reason: "label-removed" });
      await system.waitForEnvironment("web", "pr-41", (x) => x.status === "destroyed", 15_000);
      expect(await system.containers(e.id)).toHaveLength(0);
    } finally {
      await system.api("PATCH", "/v1/projects/web", { body: { requiredLabel: null } });
    }
  });

  it("skips drafts and forks by default", async () => {
    const draft = await send("opened", 21, shas.other, { draft: true });
    expect(draft.body.outcomes[0]).toMatchObject({ action: "skip", reason: "draft" });
    const fork = await send("opened", 22, shas.other, { fork: true });
    expect(fork.body.outcomes[0]).toMatchObject({ action: "skip", reason: "fork" });
    expect((await system.api("GET", "/v1/projects/web/environments/pr-21")).status).toBe(404);
    expect((await system.api("GET", "/v1/projects/web/environments/pr-22")).status).toBe(404);
  });

  it("the sweep removes a labelled container, network and volume with no environment and never ones without labels", async () => {
    const labels = {
      "edgeplane.managed": "true",
      "edgeplane.instance": system.instance,
      "edgeplane.environment": "env_0000dead",
      "edgeplane.project": "prj_0000dead",
      "edgeplane.generation": "0",
    };
    const orphanNetwork = await docker.createNetwork({
      Name: `ep-${system.instance}-env_0000dead`,
      Labels: labels,
    });
    const strangerNetwork = await docker.createNetwork({
      Name: `stranger-${system.id}`,
      Labels: { "not.edgeplane": system.id },
    });
    // a preview's data never outlives it: its volumes go too; a volume edgeplane did not make stays
    const orphanVolume = { Name: `ep-${system.instance}-env_0000dead-pgdata` };
    const strangerVolume = { Name: `stranger-${system.id}` };
    await docker.createVolume({ ...orphanVolume, Labels: { ...labels, "edgeplane.volume": "pgdata" } });
    await docker.createVolume({ ...strangerVolume, Labels: { "not.edgeplane": system.id } });
    const orphan = await docker.createContainer({
      Image: "edgeplane-test/httpd:base",
      Labels: {
        "edgeplane.managed": "true",
        "edgeplane.instance": system.instance,
        "edgeplane.environment": "env_0000dead",
        "edgeplane.project": "prj_0000dead",
        "edgeplane.generation": "1",
      },
    });
    await orphan.start();
    const stranger = await docker.createContainer({
      Image: "edgeplane-test/httpd:base",
      Labels: { "not.edgeplane": system.id },
    });
    await stranger.start();
    try {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const gone = await orphan.inspect().then(
          () => false,
          () => true,
        );
        if (gone) break;
        await sleep(200);
      }
      await expect(orphan.inspect()).rejects.toThrow();
      expect((await stranger.inspect()).State.Running).toBe(true);
      const networkGone = Date.now() + 15_000;
      while (
        Date.now() < networkGone &&
        (await orphanNetwork.inspect().then(
          () => true,
          () => false,
        ))
      )
        await sleep(200);
      await expect(orphanNetwork.inspect()).rejects.toThrow();
      expect((await strangerNetwork.inspect()).Name).toBe(`stranger-${system.id}`);
      const volumeGone = Date.now() + 15_000;
      while (
        Date.now() < volumeGone &&
        (await docker
          .getVolume(orphanVolume.Name)
          .inspect()
          .then(
            () => true,
            () => false,
          ))
      )
        await sleep(200);
      await expect(docker.getVolume(orphanVolume.Name).inspect()).rejects.toThrow();
      expect((await docker.getVolume(strangerVolume.Name).inspect()).Name).toBe(`stranger-${system.id}`);
    } finally {
      await docker
        .getVolume(strangerVolume.Name)
        .remove()
        .catch(() => {});
      await docker
        .getVolume(orphanVolume.Name)
        .remove()
        .catch(() => {});
      await stranger.remove({ force: true });
      await strangerNetwork.remove().catch(() => {});
      await orphanNetwork.remove().catch(() => {});
      await orphan.remove({ force: true }).catch(() => {});
    }
  });

  it("destroys a preview idle past its project's TTL", async () => {
    const res = await send("opened", 31, shas.other);
    const deployment = await system.waitForDeployment(res.body.outcomes[0].deploymentId);
    expect(deployment.status).toBe("ready");
    const e = await env("pr-31");
    // time passes: the preview's last activity is now older than the 72-hour TTL
    const sql = postgres(system.databaseUrl, { max: 1 });
    await sql`update environments set last_activity_at = now() - interval '73 hours' where id = ${e.id}`;
    await sql.end();
    const destroyed = await system.waitForEnvironment(
      "web",
      "pr-31",
      (x) => x.status === "destroyed",
      20_000,
    );
    expect(destroyed.destroyedAt).not.toBeNull();
    expect(await system.containers(e.id)).toHaveLength(0);
  });

  it("links a TLS project's preview to its https URL on the gateway's HTTPS port", async () => {
    const secureRepository = `acme/secure-${system.id}`;
    const secureSecret = `whsec_${randomBytes(16).toString("hex")}`;
    const secureSha = sha(5);
    await publishTestImage(`acme/gh-secure-${system.id}`, `sha-${secureSha}`, { message: "secure build" });
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "secure",
        domain: "secure.test",
        port: 8080,
        healthcheckPath: "/healthz",
        repository: secureRepository,
        webhookSecret: secureSecret,
        previewImage: `127.0.0.1:5001/acme/gh-secure-${system.id}:sha-{sha}`,
        tls: { mode: "local" },
      },
    });
    expect(project.status, JSON.stringify(project.body)).toBe(201);

    const payload = pullRequestPayload("opened", {
      repository: secureRepository,
      number: 51,
      sha: secureSha,
      updatedAt: tick(),
    });
    const delivery = await signedDelivery(secureSecret, "pull_request", payload, randomUUID());
    const res = await system.post("/webhooks/github", delivery.body, delivery.headers);
    expect(res.status).toBe(202);
    expect(res.body.outcomes[0]).toMatchObject({ project: "secure", environment: "pr-51", action: "deploy" });
    expect((await system.waitForDeployment(res.body.outcomes[0].deploymentId)).status).toBe("ready");

    // the status GitHub shows on the pull request, as the worker reported it for this repository
    const ofThisRepository = (c: RecordedCall) =>
      c.path.startsWith(`/repos/${secureRepository}/deployments/`) && c.body.state === "success";
    const deadline = Date.now() + 60_000;
    while (!github.statusCalls().some(ofThisRepository) && Date.now() < deadline) await sleep(100);
    const success = github.statusCalls().find(ofThisRepository);
    expect(success, JSON.stringify(github.statusCalls())).toBeDefined();
    const port = system.gatewayHttpsPort === 443 ? "" : `:${system.gatewayHttpsPort}`;
    expect(success?.body.environment_url).toBe(`https://pr-51.secure.test${port}`);
    // the sticky comment, written after the status, links to the same place
    const linked = (body = "") => body.includes(`| https://pr-51.secure.test${port} |`);
    const commentDeadline = Date.now() + 60_000;
    while (!linked(github.commentsOn(secureRepository, 51)[0]?.body) && Date.now() < commentDeadline)
      await sleep(100);
    expect(github.commentsOn(secureRepository, 51)).toHaveLength(1);
    expect(github.commentsOn(secureRepository, 51)[0]?.body).toContain(
      `| https://pr-51.secure.test${port} |`,
    );
  });
});
