import { setTimeout as sleep } from "node:timers/promises";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DedicatedDocker } from "./support/chaos.ts";
import { publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

const RESYNC_MS = 3000;

// A Docker Engine restart (an upgrade, a crash, a host reboot) under two serving environments while a
// third deploys: every response through the gateway is the page of the environment its host names,
// and both serve again soon after the engine is back. The engine is the test's own, so restarting
// it disturbs no other test.
describe("a Docker Engine restart", () => {
  const engine = new DedicatedDocker();
  const system = new TestSystem();
  const repo = `acme/dockerd-${system.id}`;
  const images: Record<string, string> = {};
  let docker: Docker;

  beforeAll(async () => {
    for (const name of ["a", "a2", "b", "c"])
      images[name] = await publishTestImage(repo, name, { message: `env ${name}` });
    await engine.start();
    docker = new Docker({ socketPath: engine.socketPath });
    await system.start({
      DOCKER_SOCKET: engine.socketPath,
      // networks of their own range: the machine's engine may hold the default one's
      EDGEPLANE_NETWORK_POOL: "10.214.0.0/16",
      EDGEPLANE_RESYNC_INTERVAL_MS: String(RESYNC_MS),
      EDGEPLANE_RESYNC_GRACE_MS: "1000",
      // the engine restarting its own containers in place is what this test watches. A container
      // that joined a network holder may fail to start before its holder and then be replaced by
      // the resync instead; that recovery is the runtime's own test (netns-holder, keepJoinedRunning)
      EDGEPLANE_NETWORK_HOLDERS: "off",
    });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "eng", domain: "eng.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await system.stop();
    await engine.destroy();
  });

  async function deploy(environment: string, image: string) {
    const res = await system.api("POST", "/v1/deployments", { body: { project: "eng", environment, image } });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  it("keeps every host on its own environment, and both serve again once the engine is back", async () => {
    for (const [env, image] of [
      ["pr-1", images.a],
      ["pr-2", images.b],
    ] as const) {
      expect((await system.waitForDeployment(await deploy(env, image ?? ""))).status).toBe("ready");
    }
    // pr-1 deployed again: the engine restarts under a redeployed environment too
    await sleep(2000);
    expect((await system.waitForDeployment(await deploy("pr-1", images.a2 ?? ""))).status).toBe("ready");
    const pages: Record<string, string> = { "pr-1.eng.test": "env a2\n", "pr-2.eng.test": "env b\n" };
    for (const [host, page] of Object.entries(pages))
      expect(await system.viaGateway(host)).toEqual({ status: 200, text: page });
    // the environments' containers (each environment's network holder, readied for its next
    // deploy, is not one of them)
    const containers = () =>
      docker.listContainers({ all: true, filters: { label: ["edgeplane.managed=true"] } });
    const deadline = Date.now() + 20_000; // pr-1's first container goes once the switch drained
    while ((await containers()).length !== 2 && Date.now() < deadline) await sleep(100);
    const before = await containers();
    expect(before.length).toBe(2);

    const seen: Array<{ host: string; status: number; text: string }> = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        for (const host of Object.keys(pages)) {
          const r = await system.viaGateway(host).catch(() => ({ status: 0, text: "" }));
          seen.push({ host, ...r });
        }
        await sleep(20);
      }
    })();

    const third = await deploy("pr-3", images.c ?? "");
    await engine.stop();
    expect((await system.viaGateway("pr-1.eng.test")).status).not.toBe(200); // it really is down
    await engine.start();
    const back = Date.now();

    // both serve again, each its own page, within a resync interval of the engine being back
    const serving = async (host: string, page: string, since: number) => {
      const deadline = since + RESYNC_MS + 15_000;
      let last = { status: 0, text: "" };
      while (Date.now() < deadline) {
        last = await system.viaGateway(host).catch(() => ({ status: 0, text: "" }));
        if (last.status === 200 && last.text === page) break;
        await sleep(100);
      }
      return last;
    };
    for (const [host, page] of Object.entries(pages))
      expect(await serving(host, page, back)).toEqual({ status: 200, text: page });
    // the third ends ready and serves too. It may have been routed before the engine went down (the
    // engine's stop takes a while), and then its container is one the engine restarts, in its own
    // time, like the others'
    expect((await system.waitForDeployment(third, undefined, 90_000)).status).toBe("ready");
    expect(await serving("pr-3.eng.test", "env c\n", Date.now())).toEqual({ status: 200, text: "env c\n" });
    stop = true;
    await load;

    // the same containers, restarted by the engine at the addresses they had
    const after = await containers();
    for (const c of before) expect(after.find((a) => a.Id === c.Id)?.State).toBe("running");
    // never a page of another environment for a host, whatever happened meanwhile
    expect(seen.filter((r) => r.status === 200 && r.text !== pages[r.host])).toEqual([]);
    expect(seen.filter((r) => r.status === 200).length).toBeGreaterThan(0);
  });
});
