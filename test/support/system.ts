import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { type Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { dropDatabase } from "@edgeplane/db";
import { Redis } from "ioredis";
import { docker } from "./images.ts";
import { freePort } from "./ports.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A deployment as `GET /v1/deployments/:id` shows it (the fields tests read). */
export interface Deployment {
  id: string;
  project: string;
  environment: string;
  url: string;
  image: string;
  digest: string | null;
  generation: number;
  status: string;
  statusDetail: string | null;
  error: string | null;
  /** When it entered each phase (ISO 8601); null for phases it has not reached. */
  phases: Record<string, string | null>;
  /** Its phase changes, in order. */
  events: Array<{ phase: string; message: string | null; at: string }>;
  createdAt: string;
}

/** An environment as `GET /v1/projects/:project/environments/:name` shows it (the fields tests read). */
export interface Environment {
  id: string;
  project: string;
  name: string;
  kind: string;
  status: string;
  hostname: string;
  url: string;
  image: string | null;
  digest: string | null;
  generation: number;
  deploymentId: string | null;
  pullRequest: { number: number; headSha: string | null; state: string | null } | null;
  readyAt: string | null;
  destroyedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

// biome-ignore lint/suspicious/noExplicitAny: by default a response body is read field by field, as a test asserts it
type Body = any;

export interface ApiResponse<T = Body> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * A whole edgeplane, started the way a user starts it (`edgeplane up`), isolated from every other
 * test by its own database, queue prefix, instance label, ports and state dir.
 */
export class TestSystem {
  readonly id = randomBytes(4).toString("hex");
  readonly instance = `t${this.id}`;
  readonly prefix = `ept-${this.id}`;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly adminToken = `adm_${randomBytes(24).toString("base64url")}`;
  apiPort = 0;
  gatewayPort = 0;
  gatewayHttpsPort = 0;
  stateDir = "";
  logs: string[] = [];
  private child: ChildProcess | null = null;

  /** By default the machine's Postgres and Redis; a chaos test passes URLs of its own instances. */
  constructor(options: { postgres?: string; redisUrl?: string } = {}) {
    this.databaseUrl = `${options.postgres ?? "postgres://postgres@127.0.0.1:5432"}/edgeplane_t_${this.id}`;
    this.redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  }

  get apiUrl() {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** The pid of the `edgeplane up` process, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts it with `edgeplane up`, or as a user does with `npm start` (services check included) in
   * a process group of its own, as a terminal runs it. A second start after a stop of the processes
   * (`interrupt`) keeps the same ports, state dir and database.
   */
  async start(
    extraEnv: Record<string, string> = {},
    options: { via?: "up" | "npm start" } = {},
  ): Promise<void> {
    if (!this.stateDir) {
      this.apiPort = await freePort();
      this.gatewayPort = await freePort();
      this.gatewayHttpsPort = await freePort();
      this.stateDir = await mkdtemp(join(tmpdir(), "edgeplane-e2e-"));
    }
    const [command, args] =
      options.via === "npm start"
        ? ["npm", ["start", "--silent"]]
        : [
            process.execPath,
            [
              "--enable-source-maps",
              "--max-semi-space-size=1",
              "--optimize-for-size",
              join(ROOT, "apps/cli/dist/main.js"),
              "up",
            ],
          ];
    this.logs = [];
    this.child = spawn(command, args, {
      cwd: ROOT,
      detached: options.via === "npm start",
      env: {
        ...process.env,
        DATABASE_URL: this.databaseUrl,
        REDIS_URL: this.redisUrl,
        EDGEPLANE_QUEUE_PREFIX: this.prefix,
        EDGEPLANE_INSTANCE: this.instance,
        EDGEPLANE_API_PORT: String(this.apiPort),
        EDGEPLANE_GATEWAY_PORT: String(this.gatewayPort),
        EDGEPLANE_GATEWAY_HTTPS_PORT: String(this.gatewayHttpsPort),
        EDGEPLANE_STATE_DIR: this.stateDir,
        EDGEPLANE_ADMIN_TOKEN: this.adminToken,
        EDGEPLANE_HEALTH_TIMEOUT_MS: "15000",
        // an image that is not pushed fails after this long (15 minutes outside tests)
        EDGEPLANE_STAGE_WAIT_MS: "5000",
        // `edgeplane up` stages through the machine's edge registry by default; a test runs without
        // it unless it passes its own pair (as the artifact test does)
        EDGEPLANE_EDGE_REGISTRY: "",
        EDGEPLANE_EDGE_UPSTREAM: "",
        ...extraEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.on("data", (chunk: Buffer) => this.logs.push(...chunk.toString().split("\n").filter(Boolean)));
    }
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`edgeplane up exited early:\n${this.logs.join("\n")}`);
      const ready = await fetch(`${this.apiUrl}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready && this.logs.some((l) => l.includes("[worker-ingress]") && l.includes("worker ready")))
        return;
      await sleep(200);
    }
    throw new Error(`edgeplane did not become ready:\n${this.logs.join("\n")}`);
  }

  async api<T = Body>(method: string, path: string, options: { token?: string | null; body?: unknown } = {}) {
    const token = options.token === undefined ? this.adminToken : options.token;
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body:
        options.body === undefined
          ? undefined
          : typeof options.body === "string"
            ? options.body
            : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: response.status, body: body as T, headers: response.headers } satisfies ApiResponse<T>;
  }

  /** A request with exactly these headers and raw body, as GitHub sends a webhook. */
  async post(path: string, body: string, headers: Record<string, string>) {
    const response = await fetch(`${this.apiUrl}${path}`, { method: "POST", headers, body });
    const text = await response.text();
    let parsed: Body = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, body: parsed };
  }

  /**
   * A request through the gateway, as a browser with a hosts override would send it. Like browsers
   * and curl, a GET that meets a kept-alive connection the server closed meanwhile is sent again once.
   */
  async viaGateway(hostname: string, path = "/", agent?: Agent): Promise<{ status: number; text: string }> {
    try {
      return await this.gatewayRequest(hostname, path, agent);
    } catch (error) {
      if (
        (error as { reusedSocket?: boolean }).reusedSocket &&
        (error as { code?: string }).code === "ECONNRESET"
      ) {
        return this.gatewayRequest(hostname, path, agent);
      }
      throw error;
    }
  }

  private gatewayRequest(
    hostname: string,
    path: string,
    agent?: Agent,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: this.gatewayPort,
          path,
          headers: { host: hostname },
          agent,
          timeout: 5000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
      req.end();
    });
  }

  async waitForDeployment(
    id: string,
    until: (d: Deployment) => boolean = (d) => ["ready", "failed", "superseded"].includes(d.status),
    timeoutMs = 60_000,
  ): Promise<Deployment> {
    const deadline = Date.now() + timeoutMs;
    let last: Deployment | undefined;
    while (Date.now() < deadline) {
      last = (await this.api<Deployment>("GET", `/v1/deployments/${id}`)).body;
      if (until(last)) return last;
      await sleep(100);
    }
    throw new Error(`deployment ${id} stuck: ${JSON.stringify(last)}\n${this.logs.slice(-40).join("\n")}`);
  }

  async waitForEnvironment(
    project: string,
    name: string,
    until: (e: Environment) => boolean,
    timeoutMs = 60_000,
  ): Promise<Environment> {
    const deadline = Date.now() + timeoutMs;
    let last: Environment | undefined;
    while (Date.now() < deadline) {
      last = (await this.api<Environment>("GET", `/v1/projects/${project}/environments/${name}`)).body;
      if (until(last)) return last;
      await sleep(100);
    }
    throw new Error(`environment ${name} stuck: ${JSON.stringify(last)}\n${this.logs.slice(-40).join("\n")}`);
  }

  /** The containers this system's edgeplane owns, as Docker sees them. */
  async containers(environmentId?: string) {
    const labels = ["edgeplane.managed=true", `edgeplane.instance=${this.instance}`];
    if (environmentId) labels.push(`edgeplane.environment=${environmentId}`);
    return docker.listContainers({ all: true, filters: { label: labels } });
  }

  /**
   * Runs an `edgeplane` CLI command against this system (its API, state dir and gateway address), as a
   * user would from the shell; resolves with its exit code and output.
   */
  cli(
    args: string[],
    env: Record<string, string> = {},
    /** Filled in with when the command first wrote to stdout (ms since the epoch). */
    seen: { firstOutputAt?: number } = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ["--enable-source-maps", join(ROOT, "apps/cli/dist/main.js"), ...args],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            EDGEPLANE_API_URL: this.apiUrl,
            EDGEPLANE_STATE_DIR: this.stateDir,
            EDGEPLANE_TOKEN: this.adminToken,
            ...env,
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (c: Buffer) => {
        seen.firstOutputAt ??= Date.now();
        stdout += c.toString();
      });
      child.stderr?.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      child.once("error", reject);
      child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /**
   * Ctrl-C in the terminal: SIGINT to the whole process group of `npm start`. Resolves once every
   * process of the group is gone (or after `timeoutMs`), with the pids still left.
   */
  async interrupt(timeoutMs = 40_000): Promise<number[]> {
    const pid = this.child?.pid;
    if (!pid) throw new Error("not started");
    return interruptGroup(pid, timeoutMs);
  }

  redis(): Redis {
    return new Redis(this.redisUrl, { maxRetriesPerRequest: null });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      // `npm start` runs in a group of its own: the signal goes to all of it, as a terminal's would
      if (child.pid && child.spawnargs[0] === "npm") process.kill(-child.pid, "SIGTERM");
      else child.kill("SIGTERM");
      await Promise.race([exited, sleep(30_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    // leave nothing behind: this system's containers (and network holders), networks, queues,
    // database and state dir
    const holders = await docker.listContainers({
      all: true,
      filters: { label: [`edgeplane.netns-holder=${this.instance}`] },
    });
    for (const c of [...(await this.containers()), ...holders])
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {});
    const networks = await docker.listNetworks({
      filters: { label: ["edgeplane.managed=true", `edgeplane.instance=${this.instance}`] },
    });
    for (const n of networks)
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {});
    const redis = this.redis();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${this.prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
    redis.disconnect();
    await dropDatabase(this.databaseUrl).catch(() => {});
    if (this.stateDir) await rm(this.stateDir, { recursive: true, force: true });
  }
}

/** Ctrl-C: SIGINT to the process group `pgid`; resolves with the pids still there after `timeoutMs`. */
export async function interruptGroup(pgid: number, timeoutMs = 40_000): Promise<number[]> {
  process.kill(-pgid, "SIGINT");
  const deadline = Date.now() + timeoutMs;
  let left = await groupMembers(pgid);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(200);
    left = await groupMembers(pgid);
  }
  return left;
}

/** The pids of a process group's members still alive, from /proc. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // fields after the command (which may hold spaces) in parentheses: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") members.push(Number(entry));
  }
  return members;
}
