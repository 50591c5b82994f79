import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, publishTestImage } from "./support/images.ts";
import { freePort } from "./support/ports.ts";
import {
  type Deployment,
  type Environment,
  groupMembers,
  interruptGroup,
  TestSystem,
} from "./support/system.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CLI = join(ROOT, "apps/cli/dist/main.js");
const APPS = ["api", "worker-stage", "worker-reconcile", "worker-ingress", "janitor", "worker-github"];
/** The burst through two control planes: this many environments, each deployed this many times. */
const ENVIRONMENTS = 6;
const DEPLOYS = 5;
const burstProject = { name: "burst", domain: "burst.test", port: 8080, healthcheckPath: "/healthz" };

interface Machine {
  child: ChildProcess;
  logs: string[];
}

/** The apps among a process group's members, by the compiled entry each runs (`apps/<app>/dist/main.js`). */
async function appsRunning(pgid: number): Promise<string[]> {
  const apps: string[] = [];
  for (const pid of await groupMembers(pgid)) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0");
    for (const arg of argv) {
      const app = /apps\/([a-z-]+)\/dist\/main\.js$/.exec(arg)?.[1];
      if (app && app !== "cli") apps.push(app);
    }
  }
  return apps.sort();
}

/** Whether any process on the machine runs nginx for this gateway dir. */
async function nginxServes(gatewayDir: string): Promise<boolean> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("nginx") && cmdline.includes(gatewayDir)) return true;
  }
  return false;
}

async function databaseExists(url: string): Promise<boolean> {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    return (await sql`select 1 from pg_database where datname = ${name}`).length > 0;
  } finally {
    await sql.end();
  }
}

/** Runs the CLI in a process group of its own, as a terminal does; resolves when it exits. */
function runCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string; pid: number }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr, pid: child.pid ?? 0 }));
  });
}

/** Starts `edgeplane up` (or `npm start`, as a user does) with these arguments, in a group of its own. */
function start(command: "npm start" | "up", args: string[], env: Record<string, string>): Machine {
  const [program, argv] =
    command === "npm start"
      ? ["npm", ["start", "--silent", "--", ...args]]
      : [process.execPath, ["--enable-source-maps", CLI, "up", ...args]];
  const child = spawn(program, argv, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk: Buffer) => logs.push(...chunk.toString().split("\n").filter(Boolean)));
  }
  return { child, logs };
}

async function until(what: string, machine: Machine, ready: () => Promise<boolean>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (machine.child.exitCode !== null) throw new Error(`exited early:\n${machine.logs.join("\n")}`);
    if (await ready()) return;
    await sleep(200);
  }
  throw new Error(`${what} not reached:\n${machine.logs.join("\n")}`);
}

/** Ctrl-C to a machine: its whole group; resolves with the pids still there after `timeoutMs`. */
const interrupt = (machine: Machine, timeoutMs?: number) =>
  interruptGroup(machine.child.pid as number, timeoutMs);

function kill(machine: Machine | null) {
  const pid = machine?.child.pid;
  if (pid && machine.child.exitCode === null) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
}

// A cluster is several machines each running some of the apps (`edgeplane up --only`), sharing one
// Postgres, one Redis and one set of keys. Here "machines" on one host, each with a state dir of
// its own holding copies of the key files its apps need: A runs the API and worker-stage (through
// `npm start`, as a user would), B the other workers and the gateway. A deployment requested at A's
// API is staged at A, started and routed at B, and answers through B's gateway. C then runs a second
// control plane beside them: another API, worker-stage, worker-reconcile and janitor.
describe("edgeplane up --only", () => {
  const system = new TestSystem();
  const machineB = { stateDir: "" };
  const machineC = { stateDir: "", apiPort: 0 };
  let clusterKeys = "";
  let a: Machine | null = null;
  let b: Machine | null = null;
  let c: Machine | null = null;
  /** A request to the API at `base` (A's or C's), with the admin token, as `system.api` sends one to A's. */
  const apiAt = async <T>(base: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${system.adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  /** Copies these of the cluster's key files to a machine's state dir. */
  const copyKeys = async (files: string[], dir: string) => {
    for (const file of files) await copyFile(join(clusterKeys, file), join(dir, file));
  };
  const envOf = (stateDir: string): Record<string, string> => ({
    DATABASE_URL: system.databaseUrl,
    REDIS_URL: system.redisUrl,
    EDGEPLANE_QUEUE_PREFIX: system.prefix,
    EDGEPLANE_INSTANCE: system.instance,
    EDGEPLANE_API_PORT: String(system.apiPort),
    EDGEPLANE_GATEWAY_PORT: String(system.gatewayPort),
    EDGEPLANE_GATEWAY_HTTPS_PORT: String(system.gatewayHttpsPort),
    EDGEPLANE_STATE_DIR: stateDir,
    EDGEPLANE_HEALTH_TIMEOUT_MS: "15000",
    EDGEPLANE_EDGE_REGISTRY: "",
    EDGEPLANE_EDGE_UPSTREAM: "",
  });

  beforeAll(async () => {
    system.apiPort = await freePort();
    system.gatewayPort = await freePort();
    system.gatewayHttpsPort = await freePort();
    system.stateDir = await mkdtemp(join(tmpdir(), "edgeplane-e2e-"));
    machineB.stateDir = await mkdtemp(join(tmpdir(), "edgeplane-e2e-b-"));
    machineC.stateDir = await mkdtemp(join(tmpdir(), "edgeplane-e2e-c-"));
    machineC.apiPort = await freePort();
    clusterKeys = await mkdtemp(join(tmpdir(), "edgeplane-e2e-keys-"));
  });

  afterAll(async () => {
    kill(a);
    kill(b);
    kill(c);
    await system.stop();
    for (const dir of [machineB.stateDir, machineC.stateDir, clusterKeys])
      if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses an unknown app with exit 2, naming the apps there are, and starts nothing", async () => {
    const run = await runCli(["up", "--only", "api,worker-nope"], envOf(system.stateDir));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown app "worker-nope"');
    for (const app of APPS) expect(run.stderr).toContain(app);
    expect(await groupMembers(run.pid)).toEqual([]);
    expect(await readdir(system.stateDir)).toEqual([]);
    expect(await databaseExists(system.databaseUrl)).toBe(false); // not even migrated
  });

  it("refuses to start without the cluster's keys, naming the missing files, and makes none", async () => {
    const run = await runCli(["up", "--only", "api,worker-stage"], envOf(system.stateDir));
    expect(run.code, run.stderr).toBe(78);
    expect(run.stderr).toContain("up --only makes no keys");
    expect(run.stderr).toMatch(/signing-key\.json +for api, worker-stage/);
    expect(run.stderr).toMatch(/api-signing-key\.json +for api, worker-stage/);
    expect(run.stderr).toMatch(/admin-token +for api \(or EDGEPLANE_ADMIN_TOKEN\)/);
    expect(run.stderr).toContain("edgeplane keys");
    expect(await readdir(system.stateDir)).toEqual([]);
    expect(await databaseExists(system.databaseUrl)).toBe(false);
  });

  it("starts exactly the apps named, with the keys made once by `edgeplane keys`, and no gateway", async () => {
    // the cluster's keys, made once (an admin token already chosen is kept) ...
    await mkdir(clusterKeys, { recursive: true });
    await writeFile(join(clusterKeys, "admin-token"), `${system.adminToken}\n`, { mode: 0o600 });
    const made = await runCli(["keys", "--dir", clusterKeys], {});
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/admin-token +kept +api/);
    expect(made.stdout).toMatch(/signing-key\.json +made +api, worker-stage/);
    // ... copied to each machine: the files its apps need
    await copyKeys(
      ["signing-key.json", "api-signing-key.json", "credentials-key.json", "admin-token"],
      system.stateDir,
    );
    await copyKeys(["signing-key.json", "api-signing-key.json", "ca-key"], machineB.stateDir);

    a = start("npm start", ["--only", "api,worker-stage"], envOf(system.stateDir));
    const machine = a;
    await until("api and worker-stage ready", machine, async () => {
      const healthy = await fetch(`${system.apiUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      return healthy && machine.logs.some((l) => l.includes("[worker-stage]") && l.includes("worker ready"));
    });
    expect(await appsRunning(machine.child.pid as number)).toEqual(["api", "worker-stage"]);
    expect(await nginxServes(join(system.stateDir, "gateway"))).toBe(false);
    // the API holds the admin token from the copied file
    expect((await system.api("GET", "/v1/projects")).status).toBe(200);
  });

  it("serves a deployment with the other apps on another machine holding copies of the same keys", async () => {
    const env = {
      ...envOf(machineB.stateDir),
      // worker-ingress without an API on its machine: the gateway is told where one is
      EDGEPLANE_CONTROL_URL: system.apiUrl,
    };
    const refused = await runCli(["up", "--only", "worker-ingress"], { ...env, EDGEPLANE_CONTROL_URL: "" });
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain(
      "EDGEPLANE_CONTROL_URL: required when worker-ingress runs without the api",
    );
    b = start("up", ["--only", "worker-reconcile,worker-ingress,janitor,worker-github"], env);
    const machine = b;
    await until("machine B ready", machine, async () =>
      ["worker-reconcile", "worker-ingress", "janitor", "worker-github"].every((app) =>
        machine.logs.some((l) => l.includes(`[${app}]`) && l.includes("worker ready")),
      ),
    );
    expect(await appsRunning(machine.child.pid as number)).toEqual([
      "janitor",
      "worker-github",
      "worker-ingress",
      "worker-reconcile",
    ]);
    const image = await publishTestImage(`acme/only-${system.id}`, "v1", { message: "one cluster" });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: "split", domain: "split.test", port: 8080, healthcheckPath: "/healthz" },
    });
    expect(project.status).toBe(201);
    const res = await system.api<{ id: string }>("POST", "/v1/deployments", {
      body: { project: "split", environment: "dev", image },
    });
    expect(res.status).toBe(202);
    const done = await system.waitForDeployment(res.body.id, undefined, 90_000);
    expect(done.status, JSON.stringify(done)).toBe("ready");
    expect(await system.viaGateway("dev.split.test")).toEqual({ status: 200, text: "one cluster\n" });
  });

  it("two control planes at once: a burst of deploys through both APIs ends with each environment on its latest image, one container each, no intent lost", async () => {
    if (!a || !b) throw new Error("not started");
    // machine C: a second API, worker-stage, worker-reconcile and janitor, on the same Postgres and Redis
    await copyKeys(
      ["signing-key.json", "api-signing-key.json", "credentials-key.json", "admin-token"],
      machineC.stateDir,
    );
    const apiC = `http://127.0.0.1:${machineC.apiPort}`;
    c = start("up", ["--only", "api,worker-stage,worker-reconcile,janitor"], {
      ...envOf(machineC.stateDir),
      EDGEPLANE_API_PORT: String(machineC.apiPort),
    });
    const machine = c;
    const workersC = ["worker-stage", "worker-reconcile", "janitor"];
    await until(
      "machine C ready",
      machine,
      async () => {
        const healthy = await fetch(`${apiC}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        return (
          healthy &&
          workersC.every((app) =>
            machine.logs.some((l) => l.includes(`[${app}]`) && l.includes("worker ready")),
          )
        );
      },
      120_000,
    );
    expect(await appsRunning(machine.child.pid as number)).toEqual([
      "api",
      "janitor",
      "worker-reconcile",
      "worker-stage",
    ]);

    // images that say which one answers
    const images: string[] = [];
    for (const version of [1, 2, 3, 4])
      images.push(
        await publishTestImage(`acme/burst-${system.id}`, `v${version}`, { message: `burst v${version}` }),
      );
    const messageOf = (image: string) => `burst ${image.slice(image.lastIndexOf(":") + 1)}\n`;
    expect((await system.api("POST", "/v1/projects", { body: burstProject })).status).toBe(201);

    // every deploy at once, round after round across the environments; each environment's deploys
    // alternately at A's and C's API
    const apis = [system.apiUrl, apiC];
    const requests: Array<{ environment: string; image: string; api: string }> = [];
    for (let round = 0; round < DEPLOYS; round++)
      for (let e = 0; e < ENVIRONMENTS; e++)
        requests.push({
          environment: `burst-${e}`,
          image: images[(e + round) % images.length] as string,
          api: apis[(e + round) % apis.length] as string,
        });
    const answers = await Promise.all(
      requests.map(async (r) => ({
        ...r,
        response: await apiAt<Deployment>(r.api, "POST", "/v1/deployments", {
          project: "burst",
          environment: r.environment,
          image: r.image,
        }),
      })),
    );
    for (const { response } of answers) expect(response.status, JSON.stringify(response.body)).toBe(202);
    for (const api of apis) expect(answers.filter((x) => x.api === api)).toHaveLength(requests.length / 2);

    // per environment, its deployments by generation: the last one is what it must end on
    const byEnvironment = new Map<string, Deployment[]>();
    for (const { environment, image, response } of answers) {
      expect(response.body.image).toBe(image);
      byEnvironment.set(environment, [...(byEnvironment.get(environment) ?? []), response.body]);
    }
    expect(byEnvironment.size).toBe(ENVIRONMENTS);
    const latest = new Map<string, Deployment>();
    for (const [environment, deployments] of byEnvironment) {
      deployments.sort((x, y) => x.generation - y.generation);
      expect(new Set(deployments.map((d) => d.generation)).size, environment).toBe(DEPLOYS);
      latest.set(environment, deployments.at(-1) as Deployment);
    }

    // each environment ends ready on its latest deployment, and serves its image through the gateway
    await Promise.all(
      [...latest.values()].map(async (last) => {
        const done = await system.waitForDeployment(last.id, undefined, 120_000);
        expect(done.status, JSON.stringify(done)).toBe("ready");
      }),
    );
    for (const [environment, last] of latest) {
      const view = await system.api<Environment>("GET", `/v1/projects/burst/environments/${environment}`);
      expect(view.body).toMatchObject({
        status: "ready",
        deploymentId: last.id,
        image: last.image,
        generation: last.generation,
      });
      expect(await system.viaGateway(`${environment}.burst.test`)).toEqual({
        status: 200,
        text: messageOf(last.image),
      });
    }
    // no intent lost, none stuck: every earlier deployment superseded, none failed or unfinished
    for (const [environment, deployments] of byEnvironment) {
      for (const d of deployments.slice(0, -1)) {
        const now = await apiAt<Deployment>(apiC, "GET", `/v1/deployments/${d.id}`);
        expect(now.body.status, `${environment}: ${JSON.stringify(now.body)}`).toBe("superseded");
      }
    }

    // exactly one container per environment: the latest deployment's, running (older ones pruned
    // once the gateway drained them), on the one network of its environment
    for (const [environment, last] of latest) {
      const { id } = (await system.api<Environment>("GET", `/v1/projects/burst/environments/${environment}`))
        .body;
      const networks = await docker.listNetworks({
        filters: {
          label: [
            "edgeplane.managed=true",
            `edgeplane.instance=${system.instance}`,
            `edgeplane.environment=${id}`,
          ],
        },
      });
      expect(
        networks.map((n) => n.Name),
        environment,
      ).toEqual([`ep-${system.instance}-${id}`]);
      let containers = await system.containers(id);
      const deadline = Date.now() + 60_000;
      while (containers.length !== 1 && Date.now() < deadline) {
        await sleep(500);
        containers = await system.containers(id);
      }
      expect(
        containers.map((x) => ({
          state: x.State,
          deployment: x.Labels["edgeplane.deployment"],
          generation: x.Labels["edgeplane.generation"],
        })),
        environment,
      ).toEqual([{ state: "running", deployment: last.id, generation: String(last.generation) }]);
    }

    // the work was shared: both APIs recorded intent (above), and each machine's workers took part
    // of it (their per-job lines name the deployment: "image already on the runtime", "container healthy")
    const burstIds = answers.map((x) => x.response.body.id);
    const tookJobs = (m: Machine | null, app: string) =>
      m?.logs.some((l) => l.includes(`[${app}]`) && burstIds.some((id) => l.includes(`deploymentId=${id}`)));
    expect(tookJobs(a, "worker-stage"), "worker-stage on A").toBe(true);
    expect(tookJobs(c, "worker-stage"), "worker-stage on C").toBe(true);
    expect(tookJobs(b, "worker-reconcile"), "worker-reconcile on B").toBe(true);
    expect(tookJobs(c, "worker-reconcile"), "worker-reconcile on C").toBe(true);
  });

  it("stops every process of a machine on Ctrl-C", async () => {
    if (!a || !b || !c) throw new Error("not started");
    expect(await interrupt(a)).toEqual([]);
    await expect(fetch(`${system.apiUrl}/healthz`)).rejects.toThrow();
    expect(await interrupt(c)).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${machineC.apiPort}/healthz`)).rejects.toThrow();
    expect(await interrupt(b)).toEqual([]);
    expect(await nginxServes(join(machineB.stateDir, "gateway"))).toBe(false);
  });
});
