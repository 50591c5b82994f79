import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const run = promisify(execFile);

async function waitForPort(
  port: number,
  child: ChildProcess,
  logs: () => string,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited early:\n${logs()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port}:\n${logs()}`);
}

/** A process started by a test, with its output kept for failure messages. */
class Daemon {
  output = "";
  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on("data", (chunk: Buffer) => {
        this.output = (this.output + chunk.toString()).slice(-20_000);
      });
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, "exit");
    this.child.kill("SIGTERM");
    await Promise.race([exited, sleep(5000)]);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await exited;
    }
  }
}

/**
 * pebble-challtestsrv (Debian's `pebble` package): the DNS server pebble asks during validation. Every
 * A query is answered with 127.0.0.1 (so HTTP-01 reaches the gateway), TXT records are set through its
 * management API.
 */
export class ChallTestSrv {
  dnsPort = 0;
  managementPort = 0;
  private daemon: Daemon | undefined;

  async start(): Promise<void> {
    this.dnsPort = await freePort();
    this.managementPort = await freePort();
    const child = spawn(
      "pebble-challtestsrv",
      [
        "-dns01",
        `127.0.0.1:${this.dnsPort}`,
        "-management",
        `127.0.0.1:${this.managementPort}`,
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
        "-defaultIPv4",
        "127.0.0.1",
        "-defaultIPv6",
        "",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.daemon = new Daemon("pebble-challtestsrv", child);
    await waitForPort(this.managementPort, child, () => this.daemon?.output ?? "", "pebble-challtestsrv");
  }

  async management(path: string, body: unknown): Promise<void> {
    const response = await fetch(`http://127.0.0.1:${this.managementPort}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`challtestsrv ${path}: ${response.status}`);
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
  }
}

/**
 * A lego `httpreq` endpoint in front of challtestsrv: `/present` and `/cleanup` with `{fqdn, value}`
 * become challtestsrv's `/set-txt` and `/clear-txt`. Requires Basic auth, and records what it was sent.
 */
export class HttpreqShim {
  port = 0;
  calls: Array<{ path: string; fqdn: string; value: string; authorized: boolean }> = [];
  private server: Server | undefined;

  constructor(
    private readonly challtestsrv: ChallTestSrv,
    private readonly credentials: { username: string; password: string },
  ) {}

  get endpoint() {
    return `http://127.0.0.1:${this.port}/acme-dns`;
  }

  async start(): Promise<void> {
    const expected = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString("base64")}`;
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void (async () => {
          const authorized = req.headers.authorization === expected;
          const body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as {
            fqdn?: string;
            value?: string;
          };
          this.calls.push({
            path: req.url ?? "",
            fqdn: body.fqdn ?? "",
            value: body.value ?? "",
            authorized,
          });
          if (!authorized) {
            res.writeHead(401).end();
            return;
          }
          if (req.method === "POST" && req.url === "/acme-dns/present") {
            await this.challtestsrv.management("/set-txt", { host: body.fqdn, value: body.value });
          } else if (req.method === "POST" && req.url === "/acme-dns/cleanup") {
            await this.challtestsrv.management("/clear-txt", { host: body.fqdn });
          } else {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(200).end();
        })().catch(() => res.writeHead(500).end());
      });
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * pebble (Debian's `pebble` package), a real ACME server on loopback: real validation (no always-valid,
 * no skipped checks), its own HTTPS certificate, validating HTTP-01 on `httpPort` and resolving names
 * through `dnsServer`.
 */
export class Pebble {
  port = 0;
  managementPort = 0;
  dir = "";
  /** PEM of the certificate pebble's own HTTPS listener uses: the `caBundle` a project needs to reach it. */
  serverCert = "";
  private daemon: Daemon | undefined;

  constructor(private readonly options: { httpPort: number; dnsServer: string; validitySeconds?: number }) {}

  get directoryUrl() {
    return `https://127.0.0.1:${this.port}/dir`;
  }

  async start(): Promise<void> {
    if (!this.dir) {
      this.dir = await mkdtemp(join(tmpdir(), "edgeplane-pebble-"));
      await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=pebble test server",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-days",
        "2",
        "-keyout",
        join(this.dir, "key.pem"),
        "-out",
        join(this.dir, "cert.pem"),
      ]);
      this.serverCert = await readFile(join(this.dir, "cert.pem"), "utf8");
      this.port = await freePort();
      this.managementPort = await freePort();
    }
    const config = {
      pebble: {
        listenAddress: `127.0.0.1:${this.port}`,
        managementListenAddress: `127.0.0.1:${this.managementPort}`,
        certificate: join(this.dir, "cert.pem"),
        privateKey: join(this.dir, "key.pem"),
        httpPort: this.options.httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        ...(this.options.validitySeconds ? { certificateValidityPeriod: this.options.validitySeconds } : {}),
      },
    };
    await writeFile(join(this.dir, "config.json"), JSON.stringify(config));
    const env: NodeJS.ProcessEnv = { ...process.env };
    // real validation: never PEBBLE_VA_ALWAYS_VALID or PEBBLE_VA_NOSLEEP; only a shorter random wait
    delete env.PEBBLE_VA_ALWAYS_VALID;
    delete env.PEBBLE_VA_NOSLEEP;
    env.PEBBLE_VA_SLEEPTIME = "2";
    const child = spawn(
      "pebble",
      ["-config", join(this.dir, "config.json"), "-dnsserver", this.options.dnsServer],
      {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.daemon = new Daemon("pebble", child);
    await waitForPort(this.port, child, () => this.daemon?.output ?? "", "pebble");
    await waitForPort(this.managementPort, child, () => this.daemon?.output ?? "", "pebble management");
  }

  /** The root that signs what this pebble issues (new at every start of pebble). */
  async root(): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port: this.managementPort,
          path: "/roots/0",
          ca: this.serverCert,
          agent: new Agent({ keepAlive: false }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(Buffer.concat(chunks).toString()));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  get output() {
    return this.daemon?.output ?? "";
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
  }

  async remove(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Knot DNS (Debian's `knot`), authoritative for `zone` and accepting RFC 2136 updates signed with one
 * TSIG key (HMAC-SHA256); every other name under the zone resolves to 127.0.0.1.
 */
export class Knot {
  port = 0;
  dir = "";
  readonly keyName = "edgeplane-acme.";
  readonly secret = randomSecret();
  private daemon: Daemon | undefined;

  constructor(readonly zone: string) {}

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), "edgeplane-knot-"));
    this.port = await freePort();
    await writeFile(
      join(this.dir, "knot.conf"),
      `server:
    rundir: "${this.dir}"
    listen: 127.0.0.1@${this.port}
    user: root:root
log:
  - target: stderr
    any: info
database:
    storage: "${this.dir}/db"
key:
  - id: ${this.keyName}
    algorithm: hmac-sha256
    secret: ${this.secret}
acl:
  - id: update
    key: ${this.keyName}
    action: update
template:
  - id: default
    storage: "${this.dir}"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: ${this.zone}
    acl: update
`,
    );
    await writeFile(
      join(this.dir, `${this.zone}.zone`),
      `$ORIGIN ${this.zone}.
$TTL 60
@ SOA ns.${this.zone}. admin.${this.zone}. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
* A 127.0.0.1
`,
    );
    await run("mkdir", ["-p", join(this.dir, "db")]);
    const child = spawn("knotd", ["-c", join(this.dir, "knot.conf")], { stdio: ["ignore", "pipe", "pipe"] });
    this.daemon = new Daemon("knotd", child);
    await waitForPort(this.port, child, () => this.daemon?.output ?? "", "knotd");
  }

  get output() {
    return this.daemon?.output ?? "";
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

function randomSecret(): string {
  return randomBytes(32).toString("base64");
}

/** `curl --cacert <ca> --resolve host:port:127.0.0.1 https://host:port/path`: exit code, status and body. */
export async function curlHttps(
  ca: string,
  hostname: string,
  port: number,
  path = "/",
): Promise<{ code: number; status: number; body: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), "edgeplane-curl-"));
  try {
    const caFile = join(dir, "ca.pem");
    await writeFile(caFile, ca);
    const args = [
      "-sS",
      "--max-time",
      "10",
      "--cacert",
      caFile,
      "--resolve",
      `${hostname}:${port}:127.0.0.1`,
      "-w",
      "\n%{http_code}",
      `https://${hostname}:${port}${path}`,
    ];
    try {
      const { stdout, stderr } = await run("curl", args);
      const at = stdout.lastIndexOf("\n");
      return { code: 0, status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at), stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof code === "number" ? code : -1,
        status: 0,
        body: stdout ?? "",
        stderr: stderr ?? "",
      };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
