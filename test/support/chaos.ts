import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chown, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const run = promisify(execFile);

async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

/** Whether a process of this pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A Redis server of the test's own (loopback, free port, no persistence): it can be killed and
 * started again empty without touching the machine's shared Redis.
 */
export class DedicatedRedis {
  port = 0;
  private dir = "";
  private child: ChildProcess | null = null;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    if (!this.dir) this.dir = await mkdtemp(join(tmpdir(), "edgeplane-redis-"));
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`);
      if (await canConnect(this.port)) return;
      await sleep(50);
    }
    throw new Error(`redis-server did not listen on ${this.port}`);
  }

  /** SIGKILL: whatever it held is gone. */
  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null) return;
    process.kill(pid, "SIGKILL");
    await waitExit(pid, 5000);
    this.child = null;
  }

  async destroy(): Promise<void> {
    await this.kill();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A PostgreSQL cluster of the test's own: initdb'd as the `postgres` OS user into a temp dir,
 * trust auth, loopback only, so a test can stop and start it under a running system.
 */
export class DedicatedPostgres {
  port = 0;
  private dir = "";
  private bin = "";

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  private get data(): string {
    return join(this.dir, "data");
  }

  async init(): Promise<void> {
    const versions = (await readdir("/usr/lib/postgresql"))
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    if (!versions[0]) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql");
    this.bin = join("/usr/lib/postgresql", versions[0], "bin");
    this.port = await freePort();
    this.dir = await mkdtemp(join(tmpdir(), "edgeplane-pg-"));
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(this.dir, Number(stdout.trim()), Number(gid.trim()));
    await this.asPostgres("initdb", [
      "-D",
      this.data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "-E",
      "UTF8",
    ]);
    await this.start();
  }

  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      "-c listen_addresses=127.0.0.1",
      "-c fsync=off",
      "-c full_page_writes=off",
      "-c max_connections=200",
      // a backend whose client died notices it even while it waits on a lock
      "-c client_connection_check_interval=1000",
    ].join(" ");
    await this.asPostgres("pg_ctl", [
      "-D",
      this.data,
      "-o",
      options,
      "-l",
      join(this.dir, "postgres.log"),
      "-w",
      "-t",
      "30",
      "start",
    ]);
  }

  /** The postmaster's pid, from its pid file. */
  async pid(): Promise<number | null> {
    const text = await readFile(join(this.data, "postmaster.pid"), "utf8").catch(() => "");
    const pid = Number(text.split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  /** Fast shutdown (SIGINT to the postmaster): sessions are cut, nothing committed is lost. */
  async stop(): Promise<void> {
    const pid = await this.pid();
    if (pid === null || !alive(pid)) return;
    process.kill(pid, "SIGINT");
    if (!(await waitExit(pid, 20_000))) process.kill(pid, "SIGKILL");
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private async asPostgres(tool: string, args: string[]): Promise<void> {
    await run("runuser", ["-u", "postgres", "--", join(this.bin, tool), ...args], { cwd: this.dir });
  }
}

/**
 * A TCP gate in front of a registry: while closed it accepts connections and holds them without
 * forwarding a byte, so whoever talks to the registry through it is stuck mid-request.
 */
export class RegistryGate {
  port = 0;
  private server: Server | null = null;
  private open = true;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  constructor(private readonly target: { host: string; port: number }) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((client) => {
      this.sockets.add(client);
      client.on("close", () => this.sockets.delete(client));
      client.on("error", () => {});
      client.pause();
      const forward = () => {
        if (client.destroyed) return;
        const upstream = connect(this.target.port, this.target.host);
        this.sockets.add(upstream);
        upstream.on("close", () => this.sockets.delete(upstream));
        upstream.on("error", () => client.destroy());
        client.on("close", () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      };
      if (this.open) forward();
      else this.held.push(forward);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, "127.0.0.1", resolve));
  }

  close(): void {
    this.open = false;
  }

  release(): void {
    this.open = true;
    for (const forward of this.held.splice(0)) forward();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The pid of the child of `parent` running app `<app>` (the supervisor restarts dead ones). */
export async function appPid(parent: number, app: string): Promise<number | null> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // the command name may hold spaces and parentheses: the ppid follows the last ')'
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid !== parent) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (
      cmdline
        .split("\0")
        .some((arg) => arg.endsWith(`apps/${app}/dist/main.js`) || arg.endsWith(`apps/${app}/src/main.ts`))
    )
      return Number(entry);
  }
  return null;
}

/** Waits until the supervisor runs `app` again under a new pid. */
export async function waitRestarted(
  parent: number,
  app: string,
  old: number,
  timeoutMs = 20_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pid = await appPid(parent, app);
    if (pid !== null && pid !== old) return pid;
    await sleep(100);
  }
  throw new Error(`${app} was not restarted`);
}

/**
 * Copies a manifest to a new tag in a registry (no new layers): many distinct references to a
 * few images, so every request of a burst names its own image.
 */
export async function retag(image: string, tag: string): Promise<string> {
  const slash = image.indexOf("/");
  const colon = image.lastIndexOf(":");
  const registry = image.slice(0, slash);
  const repository = image.slice(slash + 1, colon);
  const accept = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
  ].join(", ");
  // distribution 2.8 can answer 500 ("invalid checksum digest format") while a tag link it reads is
  // being written by a concurrent push: the registry is a test fixture here, so ask again
  const got = await retryOn5xx(() =>
    fetch(`http://${registry}/v2/${repository}/manifests/${image.slice(colon + 1)}`, { headers: { accept } }),
  );
  if (!got.ok) throw new Error(`manifest of ${image}: ${got.status}`);
  const body = Buffer.from(await got.arrayBuffer());
  const put = await retryOn5xx(() =>
    fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
      method: "PUT",
      headers: {
        "content-type":
          got.headers.get("content-type") ?? "application/vnd.docker.distribution.manifest.v2+json",
      },
      body,
    }),
  );
  if (!put.ok) throw new Error(`tagging ${image} as ${tag}: ${put.status} ${await put.text()}`);
  return `${registry}/${repository}:${tag}`;
}

async function retryOn5xx(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (response.status < 500 || attempt === 5) return response;
    await response.arrayBuffer();
    await sleep(100 * attempt);
  }
}

/**
 * A Docker Engine of the test's own, beside the machine's: its own socket, data and exec roots (and
 * so its own containerd), its own default bridge and no iptables rules, so restarting it touches no
 * other test's containers. The host reaches its containers on their networks' bridges directly.
 */
export class DedicatedDocker {
  dir = "";
  /** Its default bridge, created for it (interface names: at most 15 characters). */
  private bridge = "";
  private child: ChildProcess | null = null;

  get socketPath(): string {
    return join(this.dir, "docker.sock");
  }

  async start(): Promise<void> {
    if (!this.dir) this.dir = await mkdtemp(join(tmpdir(), "ep-dockerd-"));
    if (!this.bridge) {
      this.bridge = `epdd${this.dir
        .slice(-6)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, "0")}`;
      await run("ip", ["link", "add", "name", this.bridge, "type", "bridge"]);
    }
    const child = spawn(
      "dockerd",
      [
        "--host",
        `unix://${this.socketPath}`,
        "--data-root",
        join(this.dir, "data"),
        "--exec-root",
        join(this.dir, "exec"),
        "--pidfile",
        join(this.dir, "dockerd.pid"),
        "--iptables=false",
        "--ip6tables=false",
        // a default bridge of its own: with --bridge=none dockerd deletes docker0, the machine's engine's
        "--bridge",
        this.bridge,
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode})`);
      const up = await run("docker", ["-H", `unix://${this.socketPath}`, "version"]).then(
        () => true,
        () => false,
      );
      if (up) return;
      await sleep(200);
    }
    throw new Error("dedicated dockerd did not come up");
  }

  /** As `systemctl stop docker`: SIGTERM, which stops its containers, then waits for it to exit. */
  async stop(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null) return;
    process.kill(pid, "SIGTERM");
    if (!(await waitExit(pid, 60_000))) process.kill(pid, "SIGKILL");
    this.child = null;
  }

  async destroy(): Promise<void> {
    if (!this.dir) return;
    if (this.child) {
      const host = ["-H", `unix://${this.socketPath}`];
      const { stdout } = await run("docker", [...host, "ps", "-aq"]).catch(() => ({ stdout: "" }));
      const ids = stdout.split("\n").filter(Boolean);
      if (ids.length) await run("docker", [...host, "rm", "-f", ...ids]).catch(() => {});
      await run("docker", [...host, "network", "prune", "-f"]).catch(() => {});
    }
    await this.stop();
    // dockerd bind-mounts its data root onto itself
    await run("umount", [join(this.dir, "data")]).catch(() => {});
    if (this.bridge) await run("ip", ["link", "delete", this.bridge]).catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}
