import { execFile } from "node:child_process";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, PRIMARY_REGISTRY, publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

const run = promisify(execFile);

// `npm start` in a terminal, stopped with Ctrl-C (SIGINT to its process group): edgeplane's own
// processes stop; what the setup started (Docker Engine, the registries, Postgres, Redis) keeps
// running, and so do the environments' containers, which the next `npm start` serves again.
describe("Ctrl-C on npm start", () => {
  const system = new TestSystem();
  let image = "";
  let containerId = "";
  let startedAt = "";

  beforeAll(async () => {
    image = await publishTestImage(`acme/ctrlc-${system.id}`, "v1", { message: "survives ctrl-c" });
    await system.start({}, { via: "npm start" });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "keep", domain: "keep.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
    const res = await system.api<{ id: string }>("POST", "/v1/deployments", {
      body: { project: "keep", environment: "dev", image },
    });
    expect((await system.waitForDeployment(res.body.id)).status).toBe("ready");
    const [container] = await system.containers();
    containerId = String(container?.Id);
    startedAt = (await docker.getContainer(containerId).inspect()).State.StartedAt;
  }, 180_000);

  afterAll(async () => {
    await system.stop();
  });

  it("stops every process of the group, leaving the machine's services and the environment running", async () => {
    expect((await system.viaGateway("dev.keep.test")).status).toBe(200);
    expect(await system.interrupt()).toEqual([]);
    // edgeplane is down: its API no longer answers
    await expect(fetch(`${system.apiUrl}/healthz`)).rejects.toThrow();
    // Docker Engine still answers, and the environment's container never stopped
    const inspected = await docker.getContainer(containerId).inspect();
    expect(inspected.State.Running).toBe(true);
    expect(inspected.State.StartedAt).toBe(startedAt);
    // the registries, Postgres and Redis too
    for (const registry of [
      PRIMARY_REGISTRY,
      `127.0.0.1:${process.env.EDGEPLANE_EDGE_REGISTRY_PORT ?? "5002"}`,
    ]) {
      expect((await fetch(`http://${registry}/v2/`)).status).toBe(200);
    }
    const sql = postgres(system.databaseUrl, { max: 1 });
    expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
    await sql.end();
    const redis = system.redis();
    expect(await redis.ping()).toBe("PONG");
    redis.disconnect();
    const { stdout } = await run("docker", ["ps", "-q", "--no-trunc", "--filter", `id=${containerId}`]);
    expect(stdout.trim()).toBe(containerId);
  });

  it("serves the same container again after the next npm start", async () => {
    await system.start({}, { via: "npm start" });
    const deadline = Date.now() + 30_000;
    let page = await system.viaGateway("dev.keep.test");
    while (page.status !== 200 && Date.now() < deadline) page = await system.viaGateway("dev.keep.test");
    expect(page).toEqual({ status: 200, text: expect.stringContaining("survives ctrl-c") });
    const containers = await system.containers();
    expect(containers.map((c) => c.Id)).toEqual([containerId]);
    expect((await docker.getContainer(containerId).inspect()).State.StartedAt).toBe(startedAt);
  });
});
