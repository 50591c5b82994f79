import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CertificateCheck } from "./certificate-files.ts";
import { GatewayConfigError } from "./errors.ts";
import { type GatewayPaths, gatewayPaths } from "./paths.ts";
import { canConnect } from "./port.ts";
import { isProcessAlive, processTitle } from "./proc.ts";
import { reload } from "./reload.ts";
import { renderNginxConfig } from "./render.ts";
import type { Route } from "./route.ts";
import type { GatewayExtras } from "./sites.ts";
import { assertDir } from "./validate.ts";

const execFileAsync = promisify(execFile);

export interface ApplyResult {
  /** Resolves once every nginx worker that served the previous config has exited. */
  drained: Promise<void>;
}

export interface NginxGatewayOptions {
  /** Prefix dir for config, pid file, logs and temp dirs; a relative path is resolved against cwd. */
  dir: string;
  listenHost: string;
  listenPort: number;
  nginxBin?: string;
  /** HTTPS listener port, used once a route or site has a certificate. */
  httpsPort?: number;
  /** The control plane serving status pages for hosts under a site (`http://<ip>:<port>`). */
  controlUrl?: string;
}

/**
 * One nginx instance confined to its own dir. Config changes are validated with `nginx -t` before
 * they replace the running config, and apply() resolves only once every nginx worker serves it.
 */
export class NginxGateway {
  readonly dir: string;
  readonly paths: GatewayPaths;
  private readonly listenHost: string;
  private readonly listenPort: number;
  private readonly nginxBin: string;
  private readonly httpsPort: number | undefined;
  private readonly controlUrl: string | undefined;
  /** Tail of the applies queued in this process; each waits for the one before it. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Applies queued or running in this process. */
  private pending = 0;
  /** The config text this process installed last; null before its first install. */
  private installed: string | null = null;
  /** The structure (mapSkeleton) of the last config `nginx -t` accepted in this process. */
  private validated: string | null = null;
  /** Checks the certificates an apply names (each text once). */
  private readonly certificates = new CertificateCheck();
  readonly presentsCertificates = true;

  constructor({
    dir,
    listenHost,
    listenPort,
    nginxBin = "nginx",
    httpsPort,
    controlUrl,
  }: NginxGatewayOptions) {
    this.dir = resolve(dir);
    assertDir(this.dir);
    this.paths = gatewayPaths(this.dir);
    this.listenHost = listenHost;
    this.listenPort = listenPort;
    this.nginxBin = nginxBin;
    this.httpsPort = httpsPort;
    this.controlUrl = controlUrl;
  }

  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const path of Object.values(this.paths.temp)) await mkdir(path, { recursive: true });
  }

  /**
   * Renders (with the certificates that routes and sites name, given in `extras`), validates, installs
   * and reloads. Resolves once the new config is served; `drained` resolves once no worker serves
   * the old one (then an upstream only it used may be removed).
   */
  async apply(routes: Route[], extras: GatewayExtras = {}): Promise<ApplyResult> {
    const named = [...routes, ...(extras.sites ?? [])].flatMap((r) =>
      r.certificate === undefined ? [] : [r.certificate],
    );
    const certificates = this.certificates.pems(named, extras.certificates ?? new Map());
    const text = renderNginxConfig(
      routes,
      {
        dir: this.dir,
        listenHost: this.listenHost,
        listenPort: this.listenPort,
        ...(this.httpsPort === undefined ? {} : { httpsPort: this.httpsPort }),
        ...(this.controlUrl === undefined ? {} : { controlUrl: this.controlUrl }),
      },
      extras,
      certificates,
    );
    return this.applyConfigText(text);
  }

  /** Validates, installs and (if nginx runs) reloads; on rejection the previous config keeps serving. */
  applyConfigText(text: string): Promise<ApplyResult> {
    this.pending++;
    const run = this.queue.then(() => this.install(text)).finally(() => this.pending--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * True when the config file on disk is no longer what this process installed last (changed,
   * corrupted or removed by someone else). False before this process installed anything, and while
   * an apply is under way: the next check looks again.
   */
  async configDrifted(): Promise<boolean> {
    if (this.installed === null || this.pending > 0) return false;
    const onDisk = await readFile(this.paths.config, "utf8").catch(() => null);
    return this.pending === 0 && onDisk !== this.installed;
  }

  startCommand(): { command: string; args: string[] } {
    return {
      command: this.nginxBin,
      args: ["-p", `${this.dir}/`, "-e", this.paths.errorLog, "-c", this.paths.config, "-g", "daemon off;"],
    };
  }

  /** Spawns nginx in the foreground and resolves once it accepts connections. */
  async start(): Promise<ChildProcess> {
    await this.prepare();
    const running = await this.masterPid();
    if (running !== undefined) throw new Error(`nginx already runs for ${this.dir} (pid ${running})`);
    if (!(await exists(this.paths.config))) await this.apply([]);

    const { command, args } = this.startCommand();
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    let failure: Error | undefined;
    child.once("error", (error) => {
      failure = error;
    });
    child.once("close", (code, signal) => {
      failure ??= new Error(`nginx exited during startup (${signal ?? code}): ${stderr.trim()}`);
    });

    const deadline = Date.now() + 10_000;
    while (!(await this.accepting(child.pid))) {
      if (failure) throw failure;
      if (Date.now() > deadline) {
        child.kill("SIGTERM");
        throw new Error(`nginx did not accept connections on ${this.listenHost}:${this.listenPort} in time`);
      }
      await sleep(20);
    }
    return child;
  }

  async isRunning(): Promise<boolean> {
    return (await this.masterPid()) !== undefined;
  }

  private async install(text: string): Promise<ApplyResult> {
    // the config nginx serves already, by this process's last install and still on disk: nothing
    // to reload (a reload would start new workers and overlap them with the old for 100 ms)
    const pid = await this.masterPid();
    if (pid !== undefined && text === this.installed) {
      const onDisk = await readFile(this.paths.config, "utf8").catch(() => null);
      if (onDisk === text) return { drained: Promise.resolve() };
    }
    await this.prepare();
    const candidate = join(this.dir, `nginx.conf.${randomBytes(6).toString("hex")}.tmp`);
    await writeFile(candidate, text, { mode: 0o600 });
    // A config that differs from one nginx accepted only in its maps' entries (hosts, upstreams,
    // certificates: each checked as it was rendered, see maps.ts) is not tested again: `nginx -t`
    // would cost a process and a parse of the whole config on every route change.
    const skeleton = mapSkeleton(text);
    if (skeleton !== this.validated) {
      try {
        await this.test(candidate);
      } catch (error) {
        await rm(candidate, { force: true });
        throw error;
      }
      this.validated = skeleton;
    }
    await rename(candidate, this.paths.config);
    this.installed = text;
    if (pid === undefined) return { drained: Promise.resolve() };
    return reload(pid);
  }

  private async test(configFile: string): Promise<void> {
    const args = ["-t", "-q", "-p", `${this.dir}/`, "-e", "stderr", "-c", configFile];
    try {
      await execFileAsync(this.nginxBin, args);
    } catch (error) {
      const { code, stderr } = error as { code?: unknown; stderr?: string };
      if (typeof code !== "number") throw error; // nginx itself could not be run
      throw new GatewayConfigError(`nginx rejected the config: ${stderr?.trim() || `exit code ${code}`}`);
    }
  }

  /** The pid of the live nginx master serving this dir, from its pid file. */
  private async masterPid(): Promise<number | undefined> {
    const text = await readFile(this.paths.pid, "utf8").catch(() => "");
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 0 || !(await isProcessAlive(pid))) return undefined;
    // A stale pid file may name a reused pid; never signal a process that is not an nginx master.
    const title = await processTitle(pid);
    return title?.startsWith("nginx: master process") ? pid : undefined;
  }

  private async accepting(pid: number | undefined): Promise<boolean> {
    return (
      pid !== undefined && (await this.masterPid()) === pid && canConnect(this.listenHost, this.listenPort)
    );
  }
}

/** The config with every map's entries left out: what nginx could reject beyond a map line. */
export function mapSkeleton(text: string): string {
  return text.replace(/^( {2}map [^\n]* \{\n)(?: {4}[^\n]*\n)*( {2}\}\n)/gm, "$1$2");
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
