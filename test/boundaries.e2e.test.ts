import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

/** Runs a command inside a container and resolves with its exit code (busybox applets by full path). */
async function execIn(containerId: string, cmd: string[]): Promise<number> {
  const exec = await docker
    .getContainer(containerId)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  stream.resume();
  await new Promise((resolve) => stream.on("end", resolve));
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode ?? -1;
    await sleep(50);
  }
}

const fetchFrom = (address: string, port: number) => [
  "/bin/busybox",
  "timeout",
  "3",
  "/bin/busybox",
  "wget",
  "-q",
  "-O",
  "/dev/null",
  `http://${address}:${port}/`,
];

// What crosses a boundary: environments on networks of their own, reached by an address that stays
// right across restarts, and a redeploy that never removes the container the gateway routes to.
describe("boundaries between environments", () => {
  const system = new TestSystem();
  const repo = `acme/bounds-${system.id}`;
  const images: Record<string, string> = {};

  beforeAll(async () => {
    const names = ["a", "b", "c", "n1", "n2", "n3"];
    const refs = await Promise.all(names.map((n) => publishTestImage(repo, n, { message: `env ${n}` })));
    names.forEach((n, i) => {
      images[n] = refs[i] ?? "";
    });
    await system.start({ EDGEPLANE_RESYNC_INTERVAL_MS: "2000", EDGEPLANE_RESYNC_GRACE_MS: "1000" });
    for (const name of ["alpha", "beta"]) {
      const project = await system.api("POST", "/v1/projects", {
        body: { name, domain: `${name}.test`, port: 8080, healthcheckPath: "/healthz" },
      });
      expect(project.status).toBe(201);
    }
  });
  afterAll(async () => {
    await system.stop();
  });

  async function deploy(project: string, environment: string, image: string) {
    const res = await system.api("POST", "/v1/deployments", { body: { project, environment, image } });
    expect(res.status).toBe(202);
    const done = await system.waitForDeployment(res.body.id);
    expect(done.status).toBe("ready");
    const env = await system.api("GET", `/v1/projects/${project}/environments/${environment}`);
    // the previous container goes once the gateway no longer routes to it
    const deadline = Date.now() + 20_000;
    while ((await system.containers(env.body.id)).length !== 1 && Date.now() < deadline) await sleep(100);
    return env.body as { id: string; hostname: string };
  }

  async function containerOf(environmentId: string) {
    const [c] = await system.containers(environmentId);
    if (!c) throw new Error(`no container for ${environmentId}`);
    return { id: c.Id, ...(await networkPlace(c.Id)), ports: c.Ports };
  }

  /**
   * The networks a container is on and its address there: its own endpoint's, or, for a container
   * that joined a network holder's namespace (a redeploy's), the holder's.
   */
  async function networkPlace(id: string) {
    const info = await docker.getContainer(id).inspect();
    const joined = /^container:(.+)$/.exec(info.HostConfig.NetworkMode ?? "")?.[1];
    const owner = joined ? await docker.getContainer(joined).inspect() : info;
    const networks = Object.entries(owner.NetworkSettings.Networks);
    return { networks, address: networks[0]?.[1].IPAddress ?? "" };
  }

  it("puts each environment on a network of its own, unreachable from another project's", async () => {
    const a = await deploy("alpha", "pr-1", images.a ?? "");
    const b = await deploy("beta", "pr-2", images.b ?? "");
    const ca = await containerOf(a.id);
    const cb = await containerOf(b.id);
    expect(ca.networks.map(([name]) => name)).toEqual([`ep-${system.instance}-${a.id}`]);
    expect(cb.networks.map(([name]) => name)).toEqual([`ep-${system.instance}-${b.id}`]);
    expect(ca.networks.map(([name]) => name)).not.toContain("bridge");
    expect(ca.ports.filter((p) => p.PublicPort)).toEqual([]); // nothing published on the host

    // the probe itself works: A reaches its own address
    expect(await execIn(ca.id, fetchFrom(ca.address, 8080))).toBe(0);
    // from inside A, B's address and port: refused or timed out
    const crossings = [
      await execIn(ca.id, fetchFrom(cb.address, 8080)),
      await execIn(cb.id, fetchFrom(ca.address, 8080)),
    ];
    if (crossings.includes(0)) {
      // what let it through: the firewall as it stands, and where each container sits
      const { execFileSync } = await import("node:child_process");
      console.error(execFileSync("iptables", ["-S"]).toString());
      console.error(JSON.stringify({ ca: ca.networks, cb: cb.networks }));
    }
    expect(crossings.map((code) => code !== 0)).toEqual([true, true]);
  });

  it("restarted containers keep serving their own host, while another environment deploys", async () => {
    const a = await deploy("alpha", "pr-1", images.a ?? "");
    const b = await deploy("beta", "pr-2", images.b ?? "");
    const before = [await containerOf(a.id), await containerOf(b.id)];
    const seen: Array<{ host: string; status: number; text: string }> = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        for (const host of ["pr-1.alpha.test", "pr-2.beta.test"]) {
          const r = await system.viaGateway(host).catch(() => ({ status: 0, text: "" }));
          seen.push({ host, ...r });
        }
      }
    })();
    const third = system.api("POST", "/v1/deployments", {
      body: { project: "alpha", environment: "pr-3", image: images.c },
    });
    await Promise.all(before.map((c) => docker.getContainer(c.id).restart({ t: 1 })));
    // a restarted container comes back at the address it had: what the gateway routes to stays right
    for (const c of before) expect((await networkPlace(c.id)).address).toBe(c.address);
    const done = await system.waitForDeployment((await third).body.id);
    expect(done.status).toBe("ready");
    // both serve again within the resync interval (2 s here), each its own page
    const deadline = Date.now() + 20_000;
    const serving = async (host: string, text: string) => {
      while (Date.now() < deadline) {
        const r = await system.viaGateway(host).catch(() => ({ status: 0, text: "" }));
        if (r.status === 200 && r.text === text) return true;
        await sleep(100);
      }
      return false;
    };
    expect(await serving("pr-1.alpha.test", "env a\n")).toBe(true);
    expect(await serving("pr-2.beta.test", "env b\n")).toBe(true);
    stop = true;
    await load;
    // never a page of another environment for a host, whatever happened meanwhile
    const wrong = seen.filter(
      (r) => r.status === 200 && r.text !== (r.host === "pr-1.alpha.test" ? "env a\n" : "env b\n"),
    );
    expect(wrong).toEqual([]);
    expect(seen.filter((r) => r.status === 200).length).toBeGreaterThan(0);
  });

  it("deploys N+1 then N+2 back to back under traffic with zero failed requests", async () => {
    await deploy("beta", "staging", images.n1 ?? "");
    const results: Array<{ status: number; text: string }> = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        results.push(await system.viaGateway("staging.beta.test").catch(() => ({ status: 0, text: "" })));
      }
    })();
    await sleep(200);
    const n2 = await system.api("POST", "/v1/deployments", {
      body: { project: "beta", environment: "staging", image: images.n2 },
    });
    await sleep(150);
    const n3 = await system.api("POST", "/v1/deployments", {
      body: { project: "beta", environment: "staging", image: images.n3 },
    });
    const done = await system.waitForDeployment(n3.body.id);
    expect(done.status).toBe("ready");
    const env = await system.api("GET", "/v1/projects/beta/environments/staging");
    const deadline = Date.now() + 20_000;
    while ((await system.containers(env.body.id)).length !== 1 && Date.now() < deadline) await sleep(100);
    await sleep(300);
    stop = true;
    await load;
    expect(["ready", "superseded"]).toContain((await system.waitForDeployment(n2.body.id)).status);
    const failed = results.filter((r) => r.status !== 200);
    expect(failed).toEqual([]);
    expect(results.every((r) => ["env n1\n", "env n2\n", "env n3\n"].includes(r.text))).toBe(true);
    expect(results.at(-1)?.text).toBe("env n3\n");
  });

  it("one bad row never stops the gateway for every other environment", async () => {
    const bad = await deploy("alpha", "pr-4", images.a ?? "");
    // a row no API would write (a hostname nginx must never see), as a bug or a hand edit could leave
    const sql = postgres(system.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`update environments set hostname = ${"bad host;"} where id = ${bad.id}`;
    } finally {
      await sql.end();
    }
    // the next render (another environment's deploy) goes on without it, and says so
    await deploy("beta", "pr-5", images.b ?? "");
    expect(await system.viaGateway("pr-5.beta.test")).toEqual({ status: 200, text: "env b\n" });
    expect(await system.viaGateway("pr-2.beta.test")).toEqual({ status: 200, text: "env b\n" });
    expect(system.logs.some((l) => l.includes("left out of the gateway"))).toBe(true);
  });

  it("teardown removes the environment's network", async () => {
    const a = await system.api("GET", "/v1/projects/alpha/environments/pr-1");
    const res = await system.api("DELETE", "/v1/projects/alpha/environments/pr-1");
    expect(res.status).toBe(202);
    await system.waitForEnvironment("alpha", "pr-1", (e) => e.status === "destroyed");
    const networks = await docker.listNetworks({ filters: { name: [`ep-${system.instance}-${a.body.id}`] } });
    expect(networks).toEqual([]);
  });
});
