import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTestImage } from "./support/images.ts";
import { LocalRegistry } from "./support/registry.ts";
import { SwarmCluster } from "./support/swarm.ts";
import { type Environment, TestSystem } from "./support/system.ts";

const RESYNC_MS = 2000;
const ARTIFACTS = join(import.meta.dirname, "..", "test-artifacts", "swarm");

type SwarmEnvironment = Environment & {
  node: string | null;
  services: Array<{ name: string; status: string; node: string | null }> | null;
};

/**
 * edgeplane on a real swarm of three nodes (three dockerd, each in namespaces of its own, joined over
 * a test bridge), driven through its public API as a user would: environments run as Swarm services
 * spread over the nodes, the gateway reaches each task on its node at a published port, and a node's
 * loss, a service removed by hand and a teardown all converge.
 */
describe("a Docker Swarm runtime", () => {
  let cluster: SwarmCluster;
  const primary = new LocalRegistry({ name: "primary" });
  let edge: LocalRegistry;
  const system = new TestSystem();
  const repo = `acme/swarm-${system.id}`;
  const images: Record<string, string> = {};
  const engines = new Map<string, Docker>();
  let manager: Docker;
  const swarmEnv = () => ({
    EDGEPLANE_RUNTIME: "swarm",
    DOCKER_HOST: cluster.manager.dockerHost,
    EDGEPLANE_EDGE_REGISTRY: edge.host,
    EDGEPLANE_EDGE_UPSTREAM: primary.host,
    EDGEPLANE_INSECURE_REGISTRIES: edge.host,
    EDGEPLANE_SWARM_PORT_RANGE: "31000-31999",
    EDGEPLANE_RESYNC_INTERVAL_MS: String(RESYNC_MS),
    EDGEPLANE_RESYNC_GRACE_MS: "1000",
    EDGEPLANE_SWEEP_INTERVAL_MS: "3000",
  });

  beforeAll(async () => {
    cluster = await SwarmCluster.start({ nodes: 3 });
    for (const node of cluster.nodes)
      engines.set(node.name, new Docker({ socketPath: node.dockerHost.replace(/^unix:\/\//, "") }));
    manager = engines.get(cluster.manager.name) as Docker;
    await primary.start();
    // the edge registry every node pulls from: on the test network, a pull-through cache of the primary
    edge = new LocalRegistry({ name: "edge", remote: primary, address: cluster.hostAddress });
    await edge.start();
    for (const tag of ["v1", "v2", "v3"])
      images[tag] = await publishTestImage(repo, tag, {
        registry: primary.host,
        message: `swarm ${tag}`,
        removeLocal: true,
      });
    await system.start(swarmEnv());
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "web",
        domain: "swarm.test",
        port: 8080,
        healthcheckPath: "/healthz",
        maxEnvironments: 50,
      },
    });
    expect(project.status).toBe(201);
  }, 240_000);

  afterAll(async () => {
    // what edgeplane and the nodes said, for a failure to be read afterwards
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, "edgeplane.log"), system.logs.join("\n"));
    if (cluster) await writeFile(join(ARTIFACTS, "nodes.log"), await cluster.logs());
    await system.stop();
    await edge?.stop();
    await primary.stop();
    await cluster?.stop();
  }, 120_000);

  async function deploy(environment: string, image: string, project = "web"): Promise<string> {
    const res = await system.api("POST", "/v1/deployments", { body: { project, environment, image } });
    expect(res.status).toBe(202);
    return (res.body as { id: string }).id;
  }

  /** Waits for the deployment to be ready; else fails with its error and the system's last logs. */
  async function expectReady(id: string): Promise<void> {
    const d = await system.waitForDeployment(id, undefined, 120_000);
    if (d.status !== "ready")
      throw new Error(`deployment ${d.status}: ${d.error}\n${system.logs.slice(-30).join("\n")}`);
  }

  async function environment(name: string, project = "web"): Promise<SwarmEnvironment> {
    return (await system.api<SwarmEnvironment>("GET", `/v1/projects/${project}/environments/${name}`)).body;
  }

  /** This system's Swarm services, as the manager lists them. */
  async function services(environmentId?: string) {
    const labels = ["edgeplane.managed=true", `edgeplane.instance=${system.instance}`];
    if (environmentId) labels.push(`edgeplane.environment=${environmentId}`);
    return manager.listServices({ filters: { label: labels } });
  }

  async function waitServing(host: string, text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await system.viaGateway(host).catch((error: Error) => error.message);
      if ((last as { status?: number; text?: string }).text === text) return;
      await sleep(250);
    }
    throw new Error(
      `${host} did not serve ${JSON.stringify(text)}: ${JSON.stringify(last)}\n${system.logs.slice(-60).join("\n")}`,
    );
  }

  it("runs environments as services spread over the nodes, each served through the gateway", async () => {
    const names = ["pr-1", "pr-2", "pr-3", "pr-4"];
    const ids = await Promise.all(names.map((name) => deploy(name, images.v1 ?? "")));
    for (const id of ids) await expectReady(id);
    for (const name of names)
      expect(await system.viaGateway(`${name}.swarm.test`)).toEqual({ status: 200, text: "swarm v1\n" });

    const nodes = new Set<string>();
    for (const name of names) {
      const env = await environment(name);
      expect(cluster.nodes.map((n) => n.name)).toContain(env.node);
      nodes.add(env.node ?? "");
      const [service, ...others] = await services(env.id);
      expect(others).toHaveLength(0);
      // published on the node itself (no routing mesh), and names resolve task by task (no VIP)
      const spec = service?.Spec as {
        EndpointSpec?: { Mode?: string; Ports?: Array<{ PublishMode?: string; PublishedPort?: number }> };
        TaskTemplate?: { ContainerSpec?: { Image?: string } };
      };
      expect(spec.EndpointSpec?.Mode).toBe("dnsrr");
      expect(spec.EndpointSpec?.Ports?.[0]?.PublishMode).toBe("host");
      expect(spec.TaskTemplate?.ContainerSpec?.Image).toMatch(
        new RegExp(`^${edge.host}/.+@sha256:[0-9a-f]{64}$`),
      );
    }
    expect(nodes.size).toBeGreaterThanOrEqual(2);
    // each environment has an overlay network of its own
    const networks = await manager.listNetworks({
      filters: { label: ["edgeplane.managed=true", `edgeplane.instance=${system.instance}`] },
    });
    expect(networks.filter((n) => n.Driver === "overlay")).toHaveLength(names.length);
  }, 240_000);

  it("redeploys under traffic with no failed request", async () => {
    let failures = 0;
    let served = 0;
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        const res = await system.viaGateway("pr-1.swarm.test").catch(() => ({ status: 0, text: "" }));
        if (res.status === 200 && (res.text === "swarm v1\n" || res.text === "swarm v2\n")) served++;
        else failures++;
        await sleep(20);
      }
    })();
    const id = await deploy("pr-1", images.v2 ?? "");
    await expectReady(id);
    await waitServing("pr-1.swarm.test", "swarm v2\n", 10_000);
    await sleep(1500); // the old task drains and is removed while traffic goes on
    stop = true;
    await traffic;
    expect(failures).toBe(0);
    expect(served).toBeGreaterThan(20);
    const env = await environment("pr-1");
    const left = await services(env.id);
    expect(left).toHaveLength(1);
  }, 180_000);

  it("restores a service removed by hand", async () => {
    const env = await environment("pr-2");
    const [service] = await services(env.id);
    await manager.getService(service?.ID ?? "").remove();
    // the resync sees it gone and starts the environment's service again
    const deadline = Date.now() + 60_000;
    let now = await services(env.id);
    while (!(now.length === 1 && now[0]?.ID !== service?.ID) && Date.now() < deadline) {
      await sleep(250);
      now = await services(env.id);
    }
    expect(now).toHaveLength(1);
    expect(now[0]?.ID).not.toBe(service?.ID);
    await waitServing("pr-2.swarm.test", "swarm v1\n", 60_000);
    await system.waitForEnvironment("web", "pr-2", (e) => e.status === "ready");
  }, 120_000);

  it("keeps a stateful service on the node that holds its volume", async () => {
    const compose = `
services:
  web:
    image: ${images.v1}
    ports: ["8080"]
  store:
    image: ${images.v1}
    expose: ["8080"]
    volumes: ["data:/data"]
volumes:
  data: {}
`;
    const created = await system.api("POST", "/v1/projects", {
      body: { name: "app", domain: "app.swarm.test", port: 8080, healthcheckPath: "/healthz", compose },
    });
    expect(created.status).toBe(201);
    const id = await deploy("pr-7", images.v1 ?? "", "app");
    await expectReady(id);
    expect(await system.viaGateway("pr-7.app.swarm.test")).toEqual({ status: 200, text: "swarm v1\n" });
    const env = await environment("pr-7", "app");
    const store = env.services?.find((s) => s.name === "store");
    expect(store?.node).toBe(cluster.manager.name);
    const volumes = await manager.listVolumes({
      filters: { label: [`edgeplane.instance=${system.instance}`, `edgeplane.environment=${env.id}`] },
    });
    expect(volumes.Volumes.map((v) => v.Labels?.["edgeplane.volume"])).toEqual(["data"]);
  }, 180_000);

  it("serves every environment again after a node is lost", async () => {
    const names = ["pr-1", "pr-2", "pr-3", "pr-4"];
    const before = await Promise.all(names.map((name) => environment(name)));
    // a worker node that runs at least one environment
    const victim = before.map((e) => e.node).find((n) => n && n !== cluster.manager.name);
    expect(victim).toBeTruthy();
    const pages = Object.fromEntries(
      await Promise.all(
        names.map(async (name) => [name, (await system.viaGateway(`${name}.swarm.test`)).text] as const),
      ),
    );
    await cluster.killNode(victim ?? "");
    const lostAt = Date.now();
    for (const name of names) await waitServing(`${name}.swarm.test`, pages[name] ?? "", 90_000);
    const recovered = Date.now() - lostAt;
    console.log(`every environment served again ${recovered} ms after the node was lost`);
    expect(recovered).toBeLessThan(60_000 + 30_000); // the 60 s of the issue, plus slack for a loaded machine
    for (const name of names) {
      const env = await environment(name);
      expect(env.node).not.toBe(victim);
      expect(env.node).not.toBeNull();
    }
  }, 240_000);

  it("leaves no service, network or volume on any node after teardown", async () => {
    for (const [project, name] of [
      ["web", "pr-1"],
      ["web", "pr-2"],
      ["web", "pr-3"],
      ["web", "pr-4"],
      ["app", "pr-7"],
    ] as const) {
      const res = await system.api("DELETE", `/v1/projects/${project}/environments/${name}`);
      expect(res.status).toBe(202);
    }
    for (const [project, name] of [
      ["web", "pr-1"],
      ["web", "pr-4"],
      ["app", "pr-7"],
    ] as const)
      await system.waitForEnvironment(project, name, (e) => e.status === "destroyed", 120_000);
    await system.waitForEnvironment("web", "pr-2", (e) => e.status === "destroyed", 60_000);
    await system.waitForEnvironment("web", "pr-3", (e) => e.status === "destroyed", 60_000);
    expect(await services()).toHaveLength(0);
    const labels = ["edgeplane.managed=true", `edgeplane.instance=${system.instance}`];
    // every node still up: no container, network or volume of this edgeplane is left
    const deadline = Date.now() + 30_000;
    for (const node of cluster.nodes.filter((n) => cluster.isUp(n.name))) {
      const engine = engines.get(node.name) as Docker;
      for (;;) {
        const containers = await engine.listContainers({ all: true, filters: { label: labels } });
        const networks = await engine.listNetworks({ filters: { label: labels } });
        const { Volumes } = await engine.listVolumes({ filters: { label: labels } });
        if (containers.length + networks.length + Volumes.length === 0) break;
        if (Date.now() > deadline)
          throw new Error(
            `${node.name} still has ${containers.length} containers, ${networks.length} networks, ${Volumes.length} volumes`,
          );
        await sleep(500);
      }
    }
  }, 240_000);
});
