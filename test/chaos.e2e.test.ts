import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Queue } from "bullmq";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appPid,
  DedicatedPostgres,
  DedicatedRedis,
  RegistryGate,
  retag,
  waitRestarted,
} from "./support/chaos.ts";
import { docker, PRIMARY_REGISTRY, publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

interface Request {
  environment: string;
  image: string;
  message: string;
  status: number;
  id?: string;
  generation?: number;
}

// Things break on purpose, under a running system with its own Postgres and Redis: workers are
// killed mid-job, Redis restarts empty, Postgres restarts during a burst of deploys, containers are
// stopped or removed by hand, the gateway config is corrupted. Every test ends the same way: every
// environment serves the latest accepted image through the gateway with exactly one container, and
// every request is accounted for (each 202 converged, each 503 stored nothing).
describe("chaos: committed intent converges whatever breaks", () => {
  const redis = new DedicatedRedis();
  const pg = new DedicatedPostgres();
  const gate = new RegistryGate({ host: "127.0.0.1", port: Number(PRIMARY_REGISTRY.split(":")[1]) });
  let system: TestSystem;
  let db: postgres.Sql;
  let bullRedis: ReturnType<TestSystem["redis"]>;
  const repo = `acme/chaos-${Date.now().toString(36)}`;
  const bases: Array<{ image: string; message: string }> = [];
  const requests: Request[] = [];
  const destroyed = new Set<string>();
  let counter = 0;

  beforeAll(async () => {
    await Promise.all([redis.start(), pg.init(), gate.start()]);
    for (const [i, message] of ["chaos zero", "chaos one", "chaos two"].entries()) {
      bases.push({ image: await publishTestImage(repo, `m${i}`, { message }), message });
    }
    system = new TestSystem({ postgres: pg.url, redisUrl: redis.url });
    await system.start({
      EDGEPLANE_RESYNC_INTERVAL_MS: "1000",
      EDGEPLANE_RESYNC_GRACE_MS: "1000",
      EDGEPLANE_JOB_LOCK_MS: "4000",
      EDGEPLANE_SWEEP_INTERVAL_MS: "5000",
      EDGEPLANE_SHUTDOWN_TIMEOUT_MS: "15000",
    });
    db = postgres(system.databaseUrl, { max: 2, onnotice: () => {} });
    bullRedis = system.redis();
    bullRedis.on("error", () => {}); // this test kills Redis on purpose
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "chaos", domain: "chaos.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
  });

  afterAll(async () => {
    bullRedis?.disconnect();
    await db?.end({ timeout: 5 });
    await system?.stop();
    await Promise.all([redis.destroy(), pg.destroy(), gate.stop()]);
  });

  /** Deploys base image `which` under a tag of its own (through `via` instead of the registry, if given). */
  async function deploy(environment: string, which: number, via?: string): Promise<Request> {
    const base = bases[which % bases.length];
    if (!base) throw new Error("no base image");
    let image = await retag(base.image, `${environment}-${++counter}`);
    if (via) image = image.replace(PRIMARY_REGISTRY, via);
    const res = await system.api("POST", "/v1/deployments", {
      body: { project: "chaos", environment, image },
    });
    const request: Request = { environment, image, message: base.message, status: res.status };
    if (res.status === 202) Object.assign(request, { id: res.body.id, generation: res.body.generation });
    requests.push(request);
    return request;
  }

  const environmentId = async (name: string) =>
    (await system.api("GET", `/v1/projects/chaos/environments/${name}`)).body.id as string;

  async function waitActive(queueName: string, timeoutMs = 15_000): Promise<void> {
    const queue = new Queue(queueName, { connection: bullRedis, prefix: system.prefix });
    try {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if ((await queue.getActiveCount()) > 0) return;
        await sleep(25);
      }
      throw new Error(`no ${queueName} job became active`);
    } finally {
      await queue.close();
    }
  }

  /** Holds a Postgres advisory lock (the one a step takes) until the returned release is called. */
  async function holdLock(key: string): Promise<() => Promise<void>> {
    const conn = await db.reserve();
    await conn`select pg_advisory_lock(hashtextextended(${key}, 0))`;
    return async () => {
      await conn`select pg_advisory_unlock(hashtextextended(${key}, 0))`;
      conn.release();
    };
  }

  async function killApp(app: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const parent = system.pid;
    if (!parent) throw new Error("system not running");
    const pid = await appPid(parent, app);
    if (!pid) throw new Error(`${app} is not running`);
    process.kill(pid, signal);
    await waitRestarted(parent, app, pid);
  }

  async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 60_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        last = error;
      }
      await sleep(150);
    }
    throw new Error(`${what} did not happen in time (${String(last)})\n${system.logs.slice(-60).join("\n")}`);
  }

  /** The common ending: every environment serves its latest accepted image, one container each, every request accounted for. */
  async function expectConverged(): Promise<void> {
    const accepted = requests.filter((r) => r.status === 202);
    const environments = [...new Set(requests.map((r) => r.environment))];
    for (const name of environments) {
      const mine = accepted.filter((r) => r.environment === name);
      if (destroyed.has(name)) {
        const env = await system.waitForEnvironment("chaos", name, (e) => e.status === "destroyed", 60_000);
        await waitFor(`no container left for ${name}`, async () =>
          (await system.containers(env.id)).length === 0 ? true : undefined,
        );
        continue;
      }
      const latest = mine.reduce<Request | undefined>(
        (a, b) => ((b.generation ?? 0) > (a?.generation ?? 0) ? b : a),
        undefined,
      );
      if (!latest) continue;
      const env = await system.waitForEnvironment(
        "chaos",
        name,
        (e) => e.status === "ready" && e.image === latest.image,
        90_000,
      );
      await waitFor(`${name} to serve "${latest.message}"`, async () => {
        const page = await system.viaGateway(`${name}.chaos.test`);
        return page.status === 200 && page.text === `${latest.message}\n` ? true : undefined;
      });
      const containers = await waitFor(`exactly one container for ${name}`, async () => {
        const list = await system.containers(env.id);
        return list.length === 1 ? list : undefined;
      });
      expect(containers[0]?.State).toBe("running");
      expect(containers[0]?.Labels["edgeplane.generation"]).toBe(String(latest.generation));
      for (const r of mine) {
        const done = await system.waitForDeployment(
          r.id ?? "",
          (d) => ["ready", "superseded"].includes(d.status),
          60_000,
        );
        expect(done.status, `${r.environment} ${r.image}`).toBe(r === latest ? "ready" : done.status);
      }
    }
    // a refused request stored nothing: no deployment names its image
    const refused = requests.filter((r) => r.status !== 202).map((r) => r.image);
    if (refused.length) {
      const [row] = await db`select count(*)::int as n from deployments where image = any(${refused})`;
      expect(row?.n).toBe(0);
    }
  }

  it("kill -9 of each worker mid-job, and SIGTERM under load, loses nothing", async () => {
    // stage: stuck talking to the registry when its worker dies
    gate.close();
    expect((await deploy("k-stage", 0, gate.host)).status).toBe(202);
    await waitActive("stage-image");
    await killApp("worker-stage");
    gate.release();

    // reconcile: waiting for the environment's lock when its worker dies
    expect((await deploy("k-reconcile", 0)).status).toBe(202);
    await system.waitForEnvironment("chaos", "k-reconcile", (e) => e.status === "ready");
    let release = await holdLock(`reconcile:${await environmentId("k-reconcile")}`);
    expect((await deploy("k-reconcile", 1)).status).toBe(202);
    await waitActive("reconcile");
    await killApp("worker-reconcile");
    await release();

    // ingress: waiting for the gateway render lock when its worker dies
    expect((await deploy("k-ingress", 0)).status).toBe(202);
    await system.waitForEnvironment("chaos", "k-ingress", (e) => e.status === "ready");
    release = await holdLock("gateway-render");
    expect((await deploy("k-ingress", 2)).status).toBe(202);
    await waitActive("ingress");
    await killApp("worker-ingress");
    await release();

    // janitor: tearing down when it dies
    expect((await deploy("k-janitor", 0)).status).toBe(202);
    await system.waitForEnvironment("chaos", "k-janitor", (e) => e.status === "ready");
    release = await holdLock(`reconcile:${await environmentId("k-janitor")}`);
    expect((await system.api("DELETE", "/v1/projects/chaos/environments/k-janitor")).status).toBe(202);
    destroyed.add("k-janitor");
    await waitActive("teardown");
    await killApp("janitor");
    await release();

    // graceful: SIGTERM every pipeline worker while a burst is under way
    const burst = await Promise.all(["g-1", "g-2", "g-1", "g-2", "g-3"].map((env, i) => deploy(env, i)));
    expect(burst.map((r) => r.status)).toEqual(burst.map(() => 202));
    await Promise.all(
      ["worker-stage", "worker-reconcile", "worker-ingress"].map((app) => killApp(app, "SIGTERM")),
    );

    await expectConverged();
  });

  it("Redis restarted empty: lost jobs and failed enqueues are re-derived from Postgres", async () => {
    const before = await Promise.all([deploy("r-1", 0), deploy("r-2", 1)]);
    expect(before.map((r) => r.status)).toEqual([202, 202]);
    await redis.kill();
    // Postgres takes the intent; the enqueue after the commit fails and is left to the resync
    const during = await Promise.all([deploy("r-1", 2), deploy("r-3", 1)]);
    expect(during.map((r) => r.status)).toEqual([202, 202]);
    await redis.start();
    await expectConverged();
    expect(system.logs.some((l) => l.includes("enqueue failed after commit"))).toBe(true);
    expect(system.logs.some((l) => l.includes("resync enqueued lost or missing work"))).toBe(true);
  });

  it("Postgres restarted during a burst: every 202 converges, every 503 stored nothing", async () => {
    const sent: Array<Promise<Request>> = [];
    for (let i = 0; i < 14; i++) {
      sent.push(deploy(`p-${i % 3}`, i));
      if (i === 5) {
        await pg.stop();
      }
      if (i === 10) await pg.start();
      await sleep(120);
    }
    const results = await Promise.all(sent);
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 202 || s === 503),
      statuses.join(","),
    ).toBe(true);
    expect(statuses).toContain(202);
    expect(statuses).toContain(503);
    await expectConverged();
  });

  it("a container stopped or removed by hand is restored", async () => {
    const stopped = await system.containers(await environmentId("k-reconcile"));
    const removed = await system.containers(await environmentId("k-ingress"));
    expect(stopped).toHaveLength(1);
    expect(removed).toHaveLength(1);
    await docker.getContainer(stopped[0]?.Id ?? "").stop({ t: 1 });
    await docker.getContainer(removed[0]?.Id ?? "").remove({ force: true });
    await expectConverged();
    expect((await system.containers(await environmentId("k-reconcile")))[0]?.Id).not.toBe(stopped[0]?.Id);
    expect((await system.containers(await environmentId("k-ingress")))[0]?.Id).not.toBe(removed[0]?.Id);
  });

  it("a corrupted or hand-edited gateway config is rendered again from state", async () => {
    const file = join(system.stateDir, "gateway", "nginx.conf");
    const rendered = await readFile(file, "utf8");
    await writeFile(file, "this is not { an nginx config ;;\n");
    await waitFor(
      "the config restored",
      async () => ((await readFile(file, "utf8")) === rendered ? true : undefined),
      20_000,
    );

    // a valid config that routes every environment nowhere, reloaded by hand
    await writeFile(file, rendered.replaceAll(/proxy_pass http:\/\/127\.0\.0\.1:\d+;/g, "return 502;"));
    const master = Number((await readFile(join(system.stateDir, "gateway", "nginx.pid"), "utf8")).trim());
    process.kill(master, "SIGHUP");
    await waitFor(
      "the config restored",
      async () => ((await readFile(file, "utf8")) === rendered ? true : undefined),
      20_000,
    );
    await expectConverged();
  });
});
