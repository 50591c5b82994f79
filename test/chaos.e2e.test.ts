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
  /** The test saw this request's image served ready before it sent anything newer to the environment. */
  seenReady?: boolean;
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

  /**
   * Waits until `environment` is ready with the image of its latest accepted request, and marks that
   * request seen ready: a ready deployment never leaves `ready`, whatever comes after it.
   */
  async function waitReady(environment: string): Promise<void> {
    const latest = latestAccepted(requests.filter((r) => r.environment === environment && r.status === 202));
    if (!latest) throw new Error(`no accepted request for ${environment}`);
    await system.waitForEnvironment(
      "chaos",
      environment,
      (e) => e.status === "ready" && e.image === latest.image,
    );
    await system.waitForDeployment(latest.id ?? "", (d) => d.status === "ready");
    latest.seenReady = true;
  }

  const latestAccepted = (accepted: Request[]) =>
    accepted.reduce<Request | undefined>(
      (a, b) => ((b.generation ?? 0) > (a?.generation ?? 0) ? b : a),
      undefined,
    );

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
        const value = await answeredWithin(what, probe(), 30_000);
        if (value !== undefined) return value;
      } catch (error) {
        last = error;
      }
      await sleep(150);
    }
    throw new Error(`${what} did not happen in time (${String(last)})\n${system.logs.slice(-60).join("\n")}`);
  }

  /** `answer`, unless it takes longer than a generous deadline: then fails saying what did not answer. */
  async function answeredWithin<T>(what: string, answer: Promise<T>, timeoutMs = 60_000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`${what}: no answer in ${timeoutMs} ms\n${system.logs.slice(-60).join("\n")}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The common ending, for every environment the test ever sent a request to: one that was never
   * accepted does not exist; a destroyed one is gone; any other serves its latest accepted image, one
   * container each. Every 202 ended as the test expects (the latest ready; an older one ready if the
   * test saw it ready, else ready or superseded, never failed or stuck) and every refusal stored nothing.
   */
  async function expectConverged(): Promise<void> {
    const environments = [...new Set(requests.map((r) => r.environment))];
    expect(environments.length).toBeGreaterThan(0);
    for (const name of environments) {
      const mine = requests.filter((r) => r.environment === name && r.status === 202);
      // what the API accepted: an id and a generation each, generations distinct
      for (const r of mine) {
        expect(r.id, `${name} ${r.image}`).toMatch(/^dep_[0-9a-f]+$/);
        expect(Number.isInteger(r.generation) && (r.generation ?? 0) > 0, `${name} ${r.image}`).toBe(true);
      }
      expect(new Set(mine.map((r) => r.generation)).size, name).toBe(mine.length);

      if (mine.length === 0) {
        // every request for it was refused: it was never created, and the gateway routes nothing to it
        const read = await system.api("GET", `/v1/projects/chaos/environments/${name}`);
        expect(read.status, `${name}: ${JSON.stringify(read.body)}`).toBe(404);
        const page = await system.viaGateway(`${name}.chaos.test`);
        expect(
          requests.some((r) => page.text === `${r.message}\n`),
          `${name} serves ${page.status} ${page.text}`,
        ).toBe(false);
        continue;
      }
      if (destroyed.has(name)) {
        const env = await system.waitForEnvironment("chaos", name, (e) => e.status === "destroyed", 60_000);
        await waitFor(`no container left for ${name}`, async () =>
          (await system.containers(env.id)).length === 0 ? true : undefined,
        );
        continue;
      }
      const latest = latestAccepted(mine);
      if (!latest) throw new Error(`no latest request for ${name}`);
      const env = await system.waitForEnvironment(
        "chaos",
        name,
        (e) => e.status === "ready" && e.image === latest.image,
        90_000,
      );
      expect(env.generation, name).toBe(latest.generation);
      expect(env.deploymentId, name).toBe(latest.id);
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
          (d) => ["ready", "failed", "superseded"].includes(d.status),
          60_000,
        );
        const what = `${r.environment} ${r.image} (generation ${r.generation} of ${latest.generation})`;
        // the deployment is the request the test sent
        expect(done.image, what).toBe(r.image);
        expect(done.generation, what).toBe(r.generation);
        expect(done.environment, what).toBe(name);
        const expected = r === latest || r.seenReady ? ["ready"] : ["ready", "superseded"];
        expect(expected, what).toContain(done.status);
        // a superseded deployment never served; a ready one was never superseded
        if (done.status === "superseded") expect(done.phases.ready, what).toBeNull();
        if (done.status === "ready") expect(done.phases.superseded, what).toBeNull();
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
    await waitReady("k-reconcile");
    let release = await holdLock(`reconcile:${await environmentId("k-reconcile")}`);
    expect((await deploy("k-reconcile", 1)).status).toBe(202);
    await waitActive("reconcile");
    await killApp("worker-reconcile");
    await release();

    // ingress: waiting for the gateway render lock when its worker dies
    expect((await deploy("k-ingress", 0)).status).toBe(202);
    await waitReady("k-ingress");
    release = await holdLock("gateway-render");
    expect((await deploy("k-ingress", 2)).status).toBe(202);
    await waitActive("ingress");
    await killApp("worker-ingress");
    await release();

    // janitor: tearing down when it dies
    expect((await deploy("k-janitor", 0)).status).toBe(202);
    await waitReady("k-janitor");
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
    // a burst under way when Postgres stops: each of these may be taken (202) or refused (503)
    const burst: Array<Promise<Request>> = [];
    for (let i = 0; i < 6; i++) {
      burst.push(deploy(`p-${i % 3}`, i));
      await sleep(120);
    }
    await pg.stop();
    // sent and answered while Postgres is down: nothing can be committed, so each is refused
    const whileDown = await answeredWithin(
      "deploys sent while Postgres is down",
      Promise.all(["p-0", "p-1", "p-2", "p-down", "p-down"].map((env, i) => deploy(env, 6 + i))),
    );
    await pg.start();
    const inFlight = await answeredWithin("deploys sent as Postgres stopped", Promise.all(burst));
    // once it is back, each environment takes a deploy again (after the pool reconnects)
    const after: Request[] = [];
    for (const [i, env] of ["p-0", "p-1", "p-2"].entries()) {
      const accepted = await waitFor(`a deploy to ${env} accepted after the restart`, async () => {
        const r = await deploy(env, 11 + i);
        after.push(r);
        return r.status === 202 ? r : undefined;
      });
      expect(accepted.status).toBe(202);
    }

    expect(whileDown.map((r) => r.status)).toEqual(whileDown.map(() => 503));
    const statuses = [...inFlight, ...after].map((r) => r.status);
    expect(
      statuses.every((s) => s === 202 || s === 503),
      statuses.join(","),
    ).toBe(true);
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
    // a stopped container is started again where it was (same container, same address); a removed one replaced
    const again = await system.containers(await environmentId("k-reconcile"));
    expect(again.map((c) => [c.Id, c.State])).toEqual([[stopped[0]?.Id, "running"]]);
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
    const broken = rendered.replaceAll(/proxy_pass http:\/\/\$edgeplane_upstream;/g, "return 502;");
    expect(broken).not.toBe(rendered);
    await writeFile(file, broken);
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
