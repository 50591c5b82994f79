import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Docker from "dockerode";
import { alive } from "./chaos.ts";
import { follow, docker as machineDocker } from "./images.ts";
import { runProgram } from "./run.ts";

export interface SwarmNode {
  /** Its hostname too (`node.hostname==node2` in a placement constraint). */
  name: string;
  /** Its address on the test bridge: the swarm's advertise address, and where host-mode ports listen. */
  address: string;
  /** DOCKER_HOST for this node's engine: unix:///tmp/epsw-…/node2/docker.sock. */
  dockerHost: string;
  /** The same socket as a path, as dockerode's `socketPath` takes it. */
  socketPath: string;
  /** Its swarm node ID (stays the same across `killNode` and `restartNode`). */
  id: string;
}

/** Every link, network namespace and cgroup of a cluster is named `epsw<slot>…`; its subnet is 10.231.<slot>.0/24. */
const PREFIX = "epsw";
/** The bridge's alias: which process owns the cluster, so a later start can clean up after a crashed one. */
const OWNER = /^edgeplane-swarm pid=(\d+) dir=(\S+)$/;
const HEARTBEAT_MS = 2000;
const PATH = process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * A Docker Swarm of its own on this one machine: a dockerd per node, each in its own network, mount,
 * pid and UTS namespace (its own containerd, data, exec root, /run and cgroup parent), joined over a
 * Linux bridge on 10.231.<slot>.0/24 whose `.1` is the host, plus a plain-HTTP registry on that
 * address which every node trusts. nodes[0] is the only manager; the others are workers.
 *
 * The machine's own dockerd is never touched. Every process is started by this class (and dies with
 * it: parent-death signals), and `stop()` removes all it made; a later `start()` also removes what a
 * crashed run left behind (a bridge whose owner process is gone).
 *
 * Nodes reach one another, and the host at `hostAddress` only (not its loopback, not beyond it). The
 * host reaches a task through a host-mode published port on its node's address: swarm's ingress mesh
 * and service VIPs need IPVS, which this kernel lacks, so services use `--endpoint-mode dnsrr`.
 * The dispatcher heartbeat is 2 s: the manager marks a killed node Down 4–7 s after `killNode`.
 */
export class SwarmCluster {
  readonly nodes: SwarmNode[] = [];
  readonly hostAddress: string;
  private registryHost = "";
  /** Milliseconds from `start()` to every node Ready, as the manager saw it. */
  readyAfterMs = 0;
  private readonly bridge: string;
  private readonly engines = new Map<string, NodeEngine>();
  private registryProcess: ChildProcess | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly slot: number,
    readonly dir: string,
  ) {
    this.bridge = `${PREFIX}${slot}`;
    this.hostAddress = `10.231.${slot}.1`;
  }

  /** `host:port` of the plain-HTTP registry on `hostAddress`, trusted by every node (--insecure-registry). */
  get registry(): string {
    return this.registryHost;
  }

  get manager(): SwarmNode {
    const manager = this.nodes[0];
    if (!manager) throw new Error("the swarm has no nodes (not started)");
    return manager;
  }

  static async start(options: { nodes?: number } = {}): Promise<SwarmCluster> {
    const count = options.nodes ?? 3;
    if (count < 1 || count > 200) throw new Error(`a swarm of ${count} nodes`);
    const began = Date.now();
    await reapAbandoned();
    const dir = await mkdtemp(join(tmpdir(), `${PREFIX}-`));
    const slot = await claimSlot(dir).catch(async (error) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    });
    const cluster = new SwarmCluster(slot, dir);
    try {
      await cluster.boot(count);
      cluster.readyAfterMs = Date.now() - began;
      return cluster;
    } catch (error) {
      const logs = await cluster.logs();
      await cluster.stop().catch(() => {});
      throw new Error(`the swarm did not start: ${(error as Error).message}\n${logs}`, { cause: error });
    }
  }

  /** The last lines of every node's dockerd log, for a failure message. */
  async logs(): Promise<string> {
    const tails = await Promise.all(
      [...this.engines.values()].map(
        async (engine) =>
          `--- ${engine.options.name}\n${await tail(join(engine.options.dir, "dockerd.log"))}`,
      ),
    );
    return tails.join("\n");
  }

  /** A dockerode client of a node's engine (the manager's by default). */
  docker(name = this.manager.name): Docker {
    return new Docker({ socketPath: this.engine(name).socketPath });
  }

  /**
   * Copies an image of the machine's engine (`source`, e.g. edgeplane-test/httpd:base) into the
   * cluster's registry as `<registry>/<repository>:<tag>` and returns that reference. It goes through
   * the manager's engine, which keeps no copy: every node pulls it like any other image.
   */
  async seedImage(source: string, repositoryAndTag: string): Promise<string> {
    const colon = repositoryAndTag.lastIndexOf(":");
    if (colon < 0) throw new Error(`${repositoryAndTag}: no tag`);
    const repo = `${this.registry}/${repositoryAndTag.slice(0, colon)}`;
    const tag = repositoryAndTag.slice(colon + 1);
    const manager = this.docker();
    await follow(await manager.loadImage(await machineDocker.getImage(source).get()));
    await manager.getImage(source).tag({ repo, tag });
    await follow(
      await manager.getImage(`${repo}:${tag}`).push({ authconfig: { serveraddress: this.registry } }),
    );
    await manager.getImage(`${repo}:${tag}`).remove();
    await manager.getImage(source).remove();
    return `${repo}:${tag}`;
  }

  /** SIGKILLs the node's pid namespace: its dockerd, containerd, shims and containers die at once. */
  async killNode(name: string): Promise<void> {
    await this.engine(name).kill();
  }

  /** Starts a killed node's engine again on its old data: it rejoins the swarm as the same node. */
  async restartNode(name: string): Promise<void> {
    await this.engine(name).start();
  }

  /** Whether the node's engine runs (false between `killNode` and `restartNode`). */
  isUp(name: string): boolean {
    return this.engine(name).running;
  }

  /** Waits until the manager reports the node in `state`. */
  async waitNodeState(name: string, state: "down" | "ready", timeoutMs: number): Promise<void> {
    const id = this.node(name).id;
    const manager = this.docker();
    const deadline = Date.now() + timeoutMs;
    let seen = "unknown";
    while (Date.now() < deadline) {
      const node = await manager
        .getNode(id)
        .inspect()
        .catch(() => null);
      seen = node?.Status?.State ?? seen;
      if (seen === state) return;
      await sleep(100);
    }
    throw new Error(`${name} is ${seen}, not ${state}, after ${timeoutMs} ms`);
  }

  /** Removes everything it made; safe to call twice, and after a start that failed halfway. */
  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private node(name: string): SwarmNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name} in ${this.nodes.map((n) => n.name).join(", ")}`);
    return node;
  }

  private engine(name: string): NodeEngine {
    const engine = this.engines.get(name);
    if (!engine) throw new Error(`no node ${name}`);
    return engine;
  }

  private async boot(count: number): Promise<void> {
    await run("ip", ["addr", "add", `${this.hostAddress}/24`, "dev", this.bridge]);
    await run("ip", ["link", "set", this.bridge, "up"]);
    // the FORWARD policy is DROP: let the nodes talk to one another, and to nothing beyond the bridge
    // (traffic to the host itself is INPUT, not FORWARD). Both go in at the top, the DROP first: so
    // the ACCEPT ends above it whatever other clusters insert meanwhile.
    await iptables("-I", "FORWARD", "1", "-i", this.bridge, "-j", "DROP");
    await iptables("-I", "FORWARD", "1", "-i", this.bridge, "-o", this.bridge, "-j", "ACCEPT");
    await this.startRegistry();
    const cgroups = await cgroupMounts();
    for (let i = 1; i <= count; i++) {
      const engine = new NodeEngine({
        name: `node${i}`,
        netns: `${this.bridge}-${i}`,
        veth: `${this.bridge}h${i}`,
        peer: `${this.bridge}p${i}`,
        address: `10.231.${this.slot}.${i + 1}`,
        gateway: this.hostAddress,
        bridge: this.bridge,
        dir: join(this.dir, `node${i}`),
        bip: `172.31.${i}.1/24`,
        insecureRegistry: `10.231.${this.slot}.0/24`,
        cgroups,
      });
      this.engines.set(engine.options.name, engine);
      await engine.create();
    }
    const engines = [...this.engines.values()];
    await Promise.all(engines.map((engine) => engine.start()));
    const [first, ...rest] = engines;
    if (!first) throw new Error("no nodes");
    const manager = first.docker();
    await manager.swarmInit({
      ListenAddr: `${first.options.address}:2377`,
      AdvertiseAddr: first.options.address,
      Spec: { Dispatcher: { HeartbeatPeriod: HEARTBEAT_MS * 1_000_000 } },
    });
    const { JoinTokens } = await manager.swarmInspect();
    await Promise.all(rest.map((engine) => engine.join(`${first.options.address}:2377`, JoinTokens.Worker)));
    for (const engine of engines) {
      this.nodes.push({
        name: engine.options.name,
        address: engine.options.address,
        dockerHost: `unix://${engine.socketPath}`,
        socketPath: engine.socketPath,
        id: await engine.swarmNodeId(),
      });
    }
    await Promise.all(this.nodes.map((node) => this.waitNodeState(node.name, "ready", 60_000)));
  }

  private async startRegistry(): Promise<void> {
    const dir = join(this.dir, "registry");
    await mkdir(dir, { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const port = await freePortOn(this.hostAddress);
      const config = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${join(dir, "data")}`,
        "  delete:",
        "    enabled: true",
        "http:",
        `  addr: ${this.hostAddress}:${port}`,
        "",
      ].join("\n");
      await writeFile(join(dir, "config.yml"), config);
      const log = join(dir, "registry.log");
      const child = spawnLogged("docker-registry", ["serve", join(dir, "config.yml")], log, this.dir);
      this.registryProcess = child;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && child.exitCode === null) {
        const up = await fetch(`http://${this.hostAddress}:${port}/v2/`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) {
          this.registryHost = `${this.hostAddress}:${port}`;
          return;
        }
        await sleep(100);
      }
      await stopChild(child);
      // the port was taken between asking for it and binding it: ask again
      if (attempt === 3) throw new Error(`registry did not come up:\n${await tail(log)}`);
    }
  }

  private async teardown(): Promise<void> {
    await Promise.all([...this.engines.values()].map((engine) => engine.kill()));
    if (this.registryProcess) await stopChild(this.registryProcess);
    await removeCluster(this.slot, this.dir);
  }
}

interface NodeOptions {
  name: string;
  netns: string;
  /** The host end of its veth. */
  veth: string;
  /** The other end, until it is moved into the namespace and renamed eth0. */
  peer: string;
  address: string;
  gateway: string;
  bridge: string;
  dir: string;
  bip: string;
  insecureRegistry: string;
  cgroups: string[];
}

/** One node: its network namespace (made once) and the dockerd run in fresh mount/pid/UTS namespaces in it. */
class NodeEngine {
  private child: ChildProcess | null = null;

  constructor(readonly options: NodeOptions) {}

  get socketPath(): string {
    return join(this.options.dir, "docker.sock");
  }

  docker(): Docker {
    return new Docker({ socketPath: this.socketPath });
  }

  /** Its network namespace, wired to the bridge, and its boot script. */
  async create(): Promise<void> {
    const { netns, veth, peer, address, gateway, bridge, dir } = this.options;
    await mkdir(dir, { recursive: true });
    await run("ip", ["netns", "add", netns]);
    await run("ip", ["link", "add", veth, "type", "veth", "peer", "name", peer]);
    await run("ip", ["link", "set", peer, "netns", netns]);
    await run("ip", ["link", "set", veth, "master", bridge, "up"]);
    const inside = (...args: string[]) => run("ip", ["-n", netns, ...args]);
    await inside("link", "set", peer, "name", "eth0");
    await inside("addr", "add", `${address}/24`, "dev", "eth0");
    await inside("link", "set", "eth0", "up");
    await inside("link", "set", "lo", "up");
    await inside("route", "add", "default", "via", gateway);
    await writeFile(join(dir, "daemon.json"), "{}\n");
    await writeFile(join(dir, "boot.sh"), this.bootScript());
  }

  /** Starts dockerd (a new pid namespace each time) and waits until it answers. */
  async start(): Promise<void> {
    if (this.running) return;
    const { dir, netns } = this.options;
    // what a dead engine left: its exec root holds only runtime state, and a stale pid file would
    // name a live pid in the new namespace
    await rm(join(dir, "exec"), { recursive: true, force: true });
    await rm(join(dir, "dockerd.pid"), { force: true });
    const log = join(dir, "dockerd.log");
    const child = spawnLogged(
      "nsenter",
      [
        `--net=/run/netns/${netns}`,
        "--",
        "unshare",
        "--mount",
        "--pid",
        "--uts",
        "--fork",
        "--kill-child=SIGKILL",
        "--mount-proc",
        "--propagation",
        "private",
        "--",
        "sh",
        join(dir, "boot.sh"),
      ],
      log,
      dir,
    );
    this.child = child;
    const docker = this.docker();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`dockerd of ${this.options.name} exited:\n${await tail(log)}`);
      if (
        await docker.ping().then(
          () => true,
          () => false,
        )
      )
        return;
      await sleep(100);
    }
    throw new Error(`dockerd of ${this.options.name} did not answer within 60 s:\n${await tail(log)}`);
  }

  /**
   * Joins the swarm as a worker. dockerd gives up waiting after 20 s and answers 503 while it goes on
   * trying in the background (seen once with three clusters starting at once on two cores): wait on.
   */
  async join(manager: string, token: string): Promise<void> {
    const { address } = this.options;
    await this.docker()
      .swarmJoin({
        ListenAddr: `${address}:2377`,
        AdvertiseAddr: address,
        RemoteAddrs: [manager],
        JoinToken: token,
      })
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 503) throw error;
      });
    await this.swarmNodeId();
  }

  /** Its swarm node ID, once it is an active member of the swarm. */
  async swarmNodeId(timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let state = "unknown";
    while (Date.now() < deadline) {
      const { Swarm } = await this.docker().info();
      state = Swarm.LocalNodeState;
      if (state === "active" && Swarm.NodeID) return Swarm.NodeID;
      if (state === "error") throw new Error(`${this.options.name} failed to join the swarm: ${Swarm.Error}`);
      await sleep(100);
    }
    throw new Error(`${this.options.name} is not in the swarm (${state}) after ${timeoutMs} ms`);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL to the init of its pid namespace, which takes every process of the node with it. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // unshare's only child is the namespace's init (tini); unshare exits once it is gone
    const init = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").catch(() => "");
    const pid = Number(init.trim().split(" ")[0]);
    try {
      process.kill(Number.isInteger(pid) && pid > 0 ? pid : child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    // --kill-child: should unshare itself die first, the kernel kills the init for it
    const late = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(late);
    this.child = null;
  }

  /**
   * Runs as pid 1 of the new namespaces: a sysfs of this network namespace (`ip netns exec` would do
   * it but loses the cgroup mounts), the host's cgroup hierarchies mounted again, a /run of its own
   * (containerd's shim sockets and libnetwork's netns files go there, so nothing is left on the
   * host's /run), its hostname, then tini reaping for dockerd.
   */
  private bootScript(): string {
    const { name, dir, bip, insecureRegistry, cgroups } = this.options;
    const dockerd = [
      "dockerd",
      `--host=unix://${this.socketPath}`,
      `--data-root=${join(dir, "data")}`,
      `--exec-root=${join(dir, "exec")}`,
      `--pidfile=${join(dir, "dockerd.pid")}`,
      `--config-file=${join(dir, "daemon.json")}`,
      `--bip=${bip}`,
      `--cgroup-parent=${this.options.netns}`,
      `--insecure-registry=${insecureRegistry}`,
    ];
    return [
      "set -e",
      "mount -t sysfs sysfs /sys",
      ...cgroups,
      "mount -t tmpfs -o mode=755 tmpfs /run",
      `hostname ${name}`,
      `exec ${["tini", "--", ...dockerd].join(" ")}`,
      "",
    ].join("\n");
  }
}

/** The commands that mount this host's cgroup hierarchies again under a fresh /sys (v1, hybrid or v2). */
async function cgroupMounts(): Promise<string[]> {
  const commands: string[] = [];
  for (const line of (await readFile("/proc/self/mountinfo", "utf8")).split("\n")) {
    const [before, after] = line.split(" - ");
    const mountpoint = before?.split(" ")[4];
    const [type, , superOptions = ""] = after?.split(" ") ?? [];
    if (!mountpoint || !(mountpoint === "/sys/fs/cgroup" || mountpoint.startsWith("/sys/fs/cgroup/")))
      continue;
    const options = superOptions
      .split(",")
      .filter((o) => o !== "rw" && o !== "ro")
      .join(",");
    const withOptions = options ? ["-o", options] : [];
    if (type === "tmpfs") commands.push(`mount -t tmpfs -o mode=755 tmpfs ${mountpoint}`);
    else if (type === "cgroup" || type === "cgroup2")
      commands.push(
        `mkdir -p ${mountpoint}`,
        `mount -t ${type} ${withOptions.join(" ")} ${type} ${mountpoint}`,
      );
  }
  return commands;
}

/** Claims a free 10.231.<slot>.0/24 by creating its bridge: `ip link add` fails for all but one claimant. */
async function claimSlot(dir: string): Promise<number> {
  const used = await run("ip", ["-4", "-o", "addr", "show"]);
  const start = process.pid % 254;
  for (let i = 0; i < 254; i++) {
    const slot = ((start + i) % 254) + 1;
    if (used.includes(` 10.231.${slot}.`)) continue;
    const bridge = `${PREFIX}${slot}`;
    const made = await runProgram("ip", ["link", "add", "name", bridge, "type", "bridge"], { env: { PATH } });
    if (made.code !== 0) continue;
    await run("ip", ["link", "set", bridge, "alias", `edgeplane-swarm pid=${process.pid} dir=${dir}`]);
    return slot;
  }
  throw new Error("no free 10.231.<slot>.0/24 for a swarm");
}

/** Removes what clusters of dead processes left behind (a test run killed before its `stop()`). */
async function reapAbandoned(): Promise<void> {
  const links = JSON.parse(await run("ip", ["-j", "link", "show", "type", "bridge"])) as Array<{
    ifname: string;
    ifalias?: string;
  }>;
  for (const link of links) {
    const slot = link.ifname.match(new RegExp(`^${PREFIX}(\\d+)$`))?.[1];
    const owner = link.ifalias?.match(OWNER);
    if (!slot || !owner || alive(Number(owner[1]))) continue;
    await removeCluster(Number(slot), owner[2] ?? "");
  }
}

/**
 * Removes a cluster's namespaces, links, iptables rules, cgroups and directory, found by name, so it
 * works after a partial start and a second time. Its processes must be dead already.
 */
async function removeCluster(slot: number, dir: string): Promise<void> {
  const bridge = `${PREFIX}${slot}`;
  const rules = (await run("iptables", ["-w", "-S", "FORWARD"]).catch(() => ""))
    .split("\n")
    .map((rule) => rule.split(" "))
    .filter((rule) => rule[0] === "-A" && rule.includes(bridge));
  for (const rule of rules) await iptables("-D", ...rule.slice(1)).catch(() => {});
  const namespaces = (await run("ip", ["netns", "list"]).catch(() => ""))
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(`${bridge}-`));
  const links = JSON.parse(await run("ip", ["-j", "link", "show"]).catch(() => "[]")) as Array<{
    ifname: string;
  }>;
  for (const link of links.filter((l) => new RegExp(`^${bridge}h\\d+$`).test(l.ifname)))
    await run("ip", ["link", "delete", link.ifname]).catch(() => {});
  for (const name of namespaces) await run("ip", ["netns", "delete", name]).catch(() => {});
  await run("ip", ["link", "delete", bridge]).catch(() => {});
  await removeCgroups(new RegExp(`^${bridge}-\\d+$`));
  // only a directory this harness made (an abandoned cluster's alias names it)
  if (dir.startsWith(join(tmpdir(), `${PREFIX}-`))) await removeDir(dir);
}

/** Removes (rmdir, deepest first) the cgroups named by `name` in every hierarchy, a few levels down. */
async function removeCgroups(name: RegExp): Promise<void> {
  const roots = (await readFile("/proc/self/mountinfo", "utf8"))
    .split("\n")
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => line.split(" ")[4] ?? "")
    .filter(Boolean);
  const found: string[] = [];
  const walk = async (path: string, depth: number): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      if (name.test(entry.name)) found.push(join(path, entry.name));
      else if (depth < 3) await walk(join(path, entry.name), depth + 1);
    }
  };
  for (const root of roots) await walk(root, 0);
  for (const cgroup of found) await removeCgroupTree(cgroup);
}

async function removeCgroupTree(path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await removeCgroupTree(join(path, entry.name));
  for (let attempt = 1; attempt <= 20; attempt++) {
    const removed = await rmdir(path).then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code === "ENOENT",
    );
    if (removed) return;
    // a process dies a little after its pid namespace's init
    await sleep(100);
  }
}

async function removeDir(dir: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await rm(dir, { recursive: true, force: true });
      return;
    } catch (error) {
      if (attempt === 20) throw error;
      await sleep(200);
    }
  }
}

/**
 * Spawns a program that dies with this process (SIGKILL on parent death), its output to `log`.
 */
function spawnLogged(command: string, args: string[], log: string, cwd: string): ChildProcess {
  const fd = openSync(log, "a");
  try {
    return spawn("setpriv", ["--pdeathsig", "SIGKILL", "--", command, ...args], {
      cwd,
      env: { PATH },
      stdio: ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const late = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(late);
}

async function tail(log: string): Promise<string> {
  return (await readFile(log, "utf8").catch(() => "")).split("\n").slice(-30).join("\n");
}

async function run(command: string, args: string[]): Promise<string> {
  const result = await runProgram(command, args, { env: { PATH }, timeoutMs: 60_000 });
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(" ")} exited with ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** iptables, waiting for the lock: the machine's dockerd and other clusters change the rules too. */
function iptables(...args: string[]): Promise<string> {
  return run("iptables", ["-w", ...args]);
}

/** A free TCP port on `host` (an address of this machine), as the kernel hands it out. */
function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
