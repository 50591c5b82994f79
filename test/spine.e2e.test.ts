import { Agent } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

// The spine, driven through HTTP only: a CI deploy request becomes a live URL behind the gateway,
// a new image replaces it with no failed request, and a delete leaves nothing behind.
describe("deploy request to live URL", () => {
  const system = new TestSystem();
  const repo = `acme/web-${system.id}`;
  let ciToken = "";
  let v1 = "";
  let v2 = "";
  let environmentId = "";

  beforeAll(async () => {
    [v1, v2] = await Promise.all([
      publishTestImage(repo, "sha-1", { message: "web v1" }),
      publishTestImage(repo, "sha-2", { message: "web v2" }),
    ]);
    await system.start();
  });
  afterAll(async () => {
    await system.stop();
  });

  it("creates a project and a CI token scoped to it", async () => {
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "web", domain: "preview.test", port: 8080, healthcheckPath: "/" },
    });
    expect(project.status).toBe(201);
    expect(project.body).toMatchObject({ name: "web", domain: "preview.test", port: 8080 });

    const token = await system.api("POST", "/v1/tokens", { body: { name: "ci-web", projects: ["web"] } });
    expect(token.status).toBe(201);
    expect(token.body.token).toMatch(/^ept_/);
    expect(token.body.projects).toEqual(["web"]);
    ciToken = token.body.token;

    const listed = await system.api("GET", "/v1/tokens");
    expect(JSON.stringify(listed.body)).not.toContain(ciToken); // shown once, stored hashed
  });

  it("deploys: 202 with the URL, phases in order, then 200 through the gateway", async () => {
    const res = await system.api("POST", "/v1/deployments", {
      token: ciToken,
      body: { project: "web", environment: "pr-1908", image: v1 },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: "queued",
      url: `http://pr-1908.preview.test:${system.gatewayPort}`,
      image: v1,
    });
    expect(res.body.id).toMatch(/^dep_/);

    const done = await system.waitForDeployment(res.body.id);
    expect(done.status).toBe("ready");
    expect(done.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const phases = ["queued", "staging", "starting", "routing", "ready"].map((p) =>
      Date.parse(done.phases[p] ?? ""),
    );
    expect(phases.every((t) => Number.isFinite(t))).toBe(true);
    expect([...phases].sort((a, b) => a - b)).toEqual(phases);
    expect(done.events.map((e: { phase: string }) => e.phase)).toEqual([
      "queued",
      "staging",
      "starting",
      "routing",
      "ready",
    ]);

    const env = await system.api("GET", "/v1/projects/web/environments/pr-1908", { token: ciToken });
    expect(env.status).toBe(200);
    expect(env.body).toMatchObject({ name: "pr-1908", status: "ready", image: v1, kind: "preview" });
    environmentId = env.body.id;

    const list = await system.api("GET", "/v1/projects/web/environments", { token: ciToken });
    expect(list.body.environments.map((e: { name: string }) => e.name)).toEqual(["pr-1908"]);

    const page = await system.viaGateway("pr-1908.preview.test");
    expect(page).toEqual({ status: 200, text: "web v1\n" });

    const containers = await system.containers(environmentId);
    expect(containers).toHaveLength(1);
    // published on loopback only
    expect(containers[0]?.Ports.every((p) => p.IP === undefined || p.IP === "127.0.0.1")).toBe(true);
  });

  it("switches to a new image only once it is healthy, with zero failed requests", async () => {
    let stop = false;
    const results: Array<{ status: number; text: string } | string> = [];
    // half the requests reuse kept-alive connections, half open fresh ones
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const load = (async () => {
      const until = Date.now() + 60_000;
      for (let i = 0; !stop && Date.now() < until; i++) {
        const agent = i % 2 === 0 ? keepAlive : undefined;
        results.push(
          await system.viaGateway("pr-1908.preview.test", "/", agent).catch((e: Error) => e.message),
        );
      }
    })();
    await sleep(200);
    const res = await system.api("POST", "/v1/deployments", {
      token: ciToken,
      body: { project: "web", environment: "pr-1908", image: v2 },
    });
    expect(res.status).toBe(202);
    const done = await system.waitForDeployment(res.body.id);
    expect(done.status).toBe("ready");
    // the old container goes once nothing routes to it
    const deadline = Date.now() + 20_000;
    while ((await system.containers(environmentId)).length !== 1 && Date.now() < deadline) await sleep(100);
    await sleep(300);
    stop = true;
    await load;
    keepAlive.destroy();

    const failures = results.filter((r) => typeof r === "string" || r.status !== 200);
    expect(failures).toEqual([]);
    const bodies = results.map((r) => (typeof r === "string" ? r : r.text));
    expect(bodies).toContain("web v1\n");
    expect(bodies.at(-1)).toBe("web v2\n");
    // v1 never comes back once v2 served
    expect(bodies.slice(bodies.indexOf("web v2\n"))).not.toContain("web v1\n");

    const containers = await system.containers(environmentId);
    expect(containers).toHaveLength(1);
    expect(containers[0]?.Labels["edgeplane.deployment"]).toBe(res.body.id);
  });

  it("destroys: 202, then the container and the route are gone", async () => {
    const res = await system.api("DELETE", "/v1/projects/web/environments/pr-1908", { token: ciToken });
    expect(res.status).toBe(202);
    const env = await system.waitForEnvironment("web", "pr-1908", (e) => e.status === "destroyed");
    expect(env.destroyedAt).not.toBeNull();
    expect(await system.containers(environmentId)).toHaveLength(0);
    // the route is gone: the host under the project's domain gets the control plane's page instead
    const page = await system.viaGateway("pr-1908.preview.test");
    expect(page.status).toBe(410);
    expect(page.text).toContain("pr-1908 no longer exists");
    const list = await system.api("GET", "/v1/projects/web/environments", { token: ciToken });
    expect(list.body.environments).toEqual([]);
  });
});
