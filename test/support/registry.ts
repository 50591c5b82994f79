import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.ts";

export interface LocalRegistryOptions {
  name: string;
  /** Makes it an edge registry: a pull-through cache of this registry (or URL). */
  remote?: LocalRegistry | string;
  /** What the edge presents to a private remote (its bearer challenge), as ghcr.io needs. */
  remoteCredentials?: { username: string; password: string };
  /** Makes it private: clients need a bearer token from `realm`, signed by the key of `rootCertPem`. */
  tokenAuth?: { realm: string; service: string; issuer: string; rootCertPem: string };
  /** The address it listens on (default 127.0.0.1): a test network's, for nodes that must reach it. */
  address?: string;
}

/**
 * A CNCF distribution registry (Debian's `docker-registry`) run as a child of the test, on a free
 * loopback port with its data under the OS temp dir: a primary, or with `remote` an edge registry
 * (pull-through cache) of another one. A test may stop and start it again (same port, same data)
 * without touching any other test's registries.
 */
export class LocalRegistry {
  port = 0;
  dir = "";
  logs: string[] = [];
  private child: ChildProcess | null = null;

  constructor(private readonly options: LocalRegistryOptions) {}

  get host(): string {
    return `${this.options.address ?? "127.0.0.1"}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it: the first time on a new port and data dir, later on the same ones. */
  async start(): Promise<void> {
    if (this.running) return;
    if (!this.port) this.port = await freePort();
    if (!this.dir) this.dir = await mkdtemp(join(tmpdir(), `edgeplane-${this.options.name}-`));
    const remote =
      typeof this.options.remote === "string"
        ? this.options.remote
        : this.options.remote && `http://${this.options.remote.host}`;
    const { remoteCredentials: credentials, tokenAuth } = this.options;
    if (tokenAuth) await writeFile(join(this.dir, "token-root.pem"), tokenAuth.rootCertPem);
    const config = [
      "version: 0.1",
      "log:",
      "  level: info",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(this.dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${this.host}`,
      ...(remote ? ["proxy:", `  remoteurl: ${remote}`] : []),
      ...(remote && credentials
        ? [
            `  username: ${JSON.stringify(credentials.username)}`,
            `  password: ${JSON.stringify(credentials.password)}`,
          ]
        : []),
      ...(tokenAuth
        ? [
            "auth:",
            "  token:",
            `    realm: ${tokenAuth.realm}`,
            `    service: ${tokenAuth.service}`,
            `    issuer: ${tokenAuth.issuer}`,
            `    rootcertbundle: ${join(this.dir, "token-root.pem")}`,
          ]
        : []),
      "",
    ].join("\n");
    await writeFile(join(this.dir, "config.yml"), config);
    const child = spawn("docker-registry", ["serve", join(this.dir, "config.yml")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on("data", (chunk: Buffer) => this.logs.push(...chunk.toString().split("\n").filter(Boolean)));
    }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`registry ${this.options.name} exited:\n${this.logs.slice(-20).join("\n")}`);
      if (
        // 401: up, and private (token auth)
        await fetch(`http://${this.host}/v2/`).then(
          (r) => r.ok || r.status === 401,
          () => false,
        )
      )
        return;
      await sleep(100);
    }
    throw new Error(`registry ${this.options.name} did not come up on ${this.host}`);
  }

  /** Stops the process (the data stays: `start` brings it back as it was). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, sleep(5000)]);
    if (this.running) {
      child.kill("SIGKILL");
      await exited;
    }
    this.child = null;
  }

  /** Stops it, deletes its data and starts it again empty, on the same port (a cold cache). */
  async wipe(): Promise<void> {
    await this.stop();
    await rm(join(this.dir, "data"), { recursive: true, force: true });
    await this.start();
  }

  /** Stops it and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
