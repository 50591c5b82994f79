/**
 * Gateway at scale: nginx rendered for 1,000 and 5,000 routed environments (20 per project, half the
 * projects with TLS under a wildcard certificate each), run by a real nginx, in the form edgeplane
 * renders now (hosts looked up by map, one TLS server for every host with a certificate, which
 * certificate by map per handshake) and, as the baseline, the form it rendered before (one server
 * per host and one TLS server per host with a certificate; a copy of that renderer is below). Per
 * size and form:
 *   - render: the config text from the routes (validation of every value included);
 *   - nginx -t: validating that text;
 *   - reload → live: from the SIGHUP after one route changed its upstream to the first request
 *     (a new connection each, polled) that the new upstream answers;
 *   - RSS of the nginx worker and master, after requests to a sample of hosts over HTTP and HTTPS.
 * Then the worker's RSS with one wildcard certificate over N TLS hosts, and what TLS handshakes cost
 * the worker now that it loads the certificate per full handshake rather than once per reload (the
 * baseline): CPU per full and per resumed handshake, full handshakes per second (the client runs on
 * the same machine), and whether a session is resumed across a reload. Prints tables, asserts
 * nothing. BENCH_GATEWAY_RELOADS sets the reloads timed per size in the map form (default 5; the
 * baseline, seconds per reload, at most 3); BENCH_GATEWAY_HANDSHAKES the handshakes timed (2000).
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { promisify } from "node:util";
import {
  type CertificatePem,
  certificateFileName,
  certificatePem,
  NginxGateway,
  type Route,
  renderNginxConfig,
  routeProblem,
  type Site,
  writeKeyMaterial,
} from "@edgeplane/gateway";
import { createLocalCa, issueCertificate, type LocalCa } from "@edgeplane/tls";
import { rssKiB } from "./support/procs.ts";
import { percentile, table } from "./support/stats.ts";

const RELOADS = Math.max(1, Number(process.env.BENCH_GATEWAY_RELOADS ?? 5) || 5);
const HANDSHAKES = Math.max(100, Number(process.env.BENCH_GATEWAY_HANDSHAKES ?? 2000) || 2000);
const SIZES = [1000, 5000];
const PER_PROJECT = 20;
/** Hosts requested before RSS is read: some over HTTP, some over HTTPS. */
const SAMPLE = 200;
const execFileAsync = promisify(execFile);

interface Form {
  name: string;
  /** `certificates`: the PEM of each certificate named, as the gateway reads it from `dir`. */
  render(
    routes: Route[],
    sites: Site[],
    ports: Ports,
    dir: string,
    certificates: ReadonlyMap<string, CertificatePem>,
  ): string;
}

interface Ports {
  http: number;
  https: number;
  control: number;
}

const mapForm: Form = {
  name: "map per host (now)",
  render: (routes, sites, ports, dir, certificates) =>
    renderNginxConfig(
      routes,
      {
        dir,
        listenHost: "127.0.0.1",
        listenPort: ports.http,
        httpsPort: ports.https,
        controlUrl: `http://127.0.0.1:${ports.control}`,
      },
      { sites, challenges: [] },
      certificates,
    ),
};

const serverForm: Form = {
  name: "server per host (before)",
  render: renderServerPerHost,
};

// ---- the server-per-host renderer edgeplane had before, trimmed to what this benchmark renders
// (routes with and without a certificate, sites; no protection, no sleeping, no ACME answers) ----

function renderServerPerHost(routes: Route[], sites: Site[], ports: Ports, dir: string): string {
  for (const route of routes) {
    const problem = routeProblem(route); // the same validation of every value
    if (problem) throw new Error(problem);
  }
  const sorted = [...routes].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  const listen = `127.0.0.1:${ports.http}`;
  const httpsListen = `127.0.0.1:${ports.https}`;
  const control = `127.0.0.1:${ports.control}`;
  const activityLog = join(dir, "activity.log");
  const ssl = (certificate: string) => `    ssl_certificate ${join(dir, "certs", certificate)}.crt;
    ssl_certificate_key ${join(dir, "certs", certificate)}.key;
`;
  const redirect = `return 308 https://$host:${ports.https}$request_uri;`;
  const acme = `    location ^~ /.well-known/acme-challenge/ {
      default_type text/plain;
      if ($edgeplane_acme_answer = "") {
        return 404;
      }
      return 200 $edgeplane_acme_answer;
    }
`;
  const status = `    location / {
      rewrite ^ /pages/status break;
      proxy_pass http://${control};
    }
`;
  const siteOf = (hostname: string) =>
    [...sites]
      .sort((a, b) => b.domain.length - a.domain.length)
      .find((s) => hostname.endsWith(`.${s.domain}`));
  const siteServers = [...sites]
    .sort((a, b) => (a.domain < b.domain ? -1 : 1))
    .map((site) => {
      const http = `
  server {
    listen ${listen};
    server_name *.${site.domain};
${acme}${site.certificate === undefined ? status : `    location / {\n      ${redirect}\n    }\n`}  }
`;
      if (site.certificate === undefined) return http;
      return `${http}  server {
    listen ${httpsListen} ssl;
    server_name *.${site.domain};
${ssl(site.certificate)}${status}  }
`;
    })
    .join("");
  const routeServers = sorted
    .map((route) => {
      const proxy = `    access_log ${activityLog} edgeplane_activity buffer=16k flush=1s;
    location / {
      proxy_pass http://${route.upstreamHost ?? "127.0.0.1"}:${route.upstreamPort};
    }
`;
      const acmeHere = siteOf(route.hostname) ? acme : "";
      if (route.certificate === undefined) {
        return `
  # environment ${route.environmentId}
  server {
    listen ${listen};
    server_name ${route.hostname};
${acmeHere}${proxy}  }
`;
      }
      return `
  # environment ${route.environmentId}
  server {
    listen ${listen};
    server_name ${route.hostname};
${acmeHere}    location / {
      ${redirect}
    }
  }
  server {
    listen ${httpsListen} ssl;
    server_name ${route.hostname};
${ssl(route.certificate)}${proxy}  }
`;
    })
    .join("");
  return `# Rendered by edgeplane from desired state; edits here are overwritten.
worker_processes 1;
worker_shutdown_timeout 10s;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;

events {
  worker_connections 1024;
}

http {
  access_log off;
  log_format edgeplane_activity '$msec $host';
  server_tokens off;
  default_type text/plain;
  server_names_hash_bucket_size 512;
  map_hash_bucket_size 256;

  client_body_temp_path ${join(dir, "temp/client_body")};
  proxy_temp_path ${join(dir, "temp/proxy")};
  fastcgi_temp_path ${join(dir, "temp/fastcgi")};
  uwsgi_temp_path ${join(dir, "temp/uwsgi")};
  scgi_temp_path ${join(dir, "temp/scgi")};
  proxy_request_buffering off;
  proxy_max_temp_file_size 0;

  proxy_http_version 1.1;
  proxy_set_header Host $host;
  proxy_set_header X-Real-IP $remote_addr;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header X-Forwarded-Host $host;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection $connection_upgrade;
  proxy_connect_timeout 5s;
  proxy_send_timeout 60s;
  proxy_read_timeout 60s;

  map $http_upgrade $connection_upgrade {
    default upgrade;
    "" "";
  }

  server {
    listen ${listen} default_server;
    server_name _;
    return 404 "no environment serves this host\\n";
  }

  map $uri $edgeplane_acme_answer {
    default "";
  }

  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:edgeplane_tls:1m;
  server {
    listen ${httpsListen} ssl default_server;
    server_name _;
    ssl_reject_handshake on;
  }
${siteServers}${routeServers}}
`;
}

// ---- the system under test: upstreams that say who they are, a control plane, nginx ----

interface Upstream {
  name: string;
  port: number;
  server: Server;
}

async function startUpstream(name: string): Promise<Upstream> {
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(name));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { name, port: (server.address() as AddressInfo).port, server };
}

function get(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(Buffer.concat(chunks).toString()));
    });
    req.setTimeout(5000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

function getTls(port: number, host: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port, path: "/", servername: host, headers: { host }, ca, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve(Buffer.concat(chunks).toString()));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Spawns nginx in the foreground (as NginxGateway.start does) and waits until its worker accepts, with
 * more time than start() gives: the baseline parses thousands of TLS servers.
 */
async function startNginx(gateway: NginxGateway, port: number): Promise<ChildProcess> {
  await gateway.prepare();
  const { command, args } = gateway.startCommand();
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "inherit"] });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode})`);
    const master = child.pid ?? 0;
    if ((await children(master)).length === 1 && (await canConnect(port))) return child;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error("nginx did not start in time");
    }
    await sleep(20);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function children(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text.split(" ").filter(Boolean).map(Number);
}

/** Waits until the master has exactly one worker again: the old one drained after a reload. */
async function oneWorker(master: number): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pids = await children(master);
    if (pids.length === 1 && pids[0] !== undefined) return pids[0];
    if (Date.now() > deadline) throw new Error(`nginx still has ${pids.length} workers`);
    await sleep(10);
  }
}

interface Scenario {
  routes: Route[];
  sites: Site[];
  /** A plain-HTTP host whose upstream the reloads switch. */
  switched: string;
  tlsHosts: string[];
  plainHosts: string[];
}

/** `n` environments, PER_PROJECT per project, the even projects with a wildcard certificate. */
function scenario(n: number, pool: Upstream[], tlsEvery = 2): Scenario {
  const routes: Route[] = [];
  const sites: Site[] = [];
  const projects = Math.ceil(n / PER_PROJECT);
  for (let p = 0; p < projects; p++) {
    const domain = `p${p}.bench.test`;
    const tls = p % tlsEvery === 0;
    const certificate = tls ? certificateFileName(`*.${domain}`) : undefined;
    sites.push({ domain, ...(certificate ? { certificate } : {}) });
    for (let h = 0; h < PER_PROJECT && routes.length < n; h++) {
      const i = routes.length;
      routes.push({
        hostname: `pr-${h}.${domain}`,
        upstreamPort: pool[i % pool.length]?.port ?? 0,
        environmentId: `env_${(i + 1).toString(16)}`,
        ...(certificate ? { certificate } : {}),
      });
    }
  }
  const plainHosts = routes.filter((r) => !r.certificate).map((r) => r.hostname);
  const tlsHosts = routes.filter((r) => r.certificate).map((r) => r.hostname);
  const switched = plainHosts[Math.floor(plainHosts.length / 2)] ?? "";
  return { routes, sites, switched, tlsHosts, plainHosts };
}

interface Measured {
  configKiB: number;
  renderMs: number[];
  testMs: number[];
  liveMs: number[];
  workerMiB: number;
  masterMiB: number;
}

async function nginxTest(dir: string, file: string): Promise<number> {
  const t0 = performance.now();
  await execFileAsync("nginx", ["-t", "-q", "-p", `${dir}/`, "-e", "stderr", "-c", file]);
  return performance.now() - t0;
}

/** A dir with the certificates of a scenario written into `certs/`, and their PEM as the gateway reads it. */
interface Installed {
  dir: string;
  certificates: ReadonlyMap<string, CertificatePem>;
}

/** Installs `text` as the config in `dir`, runs nginx on it for `use` (given the master's pid), stops it. */
async function withNginx<T>(
  dir: string,
  ports: Ports,
  text: string,
  use: (gateway: NginxGateway, master: number) => Promise<T>,
): Promise<T> {
  const gateway = new NginxGateway({
    dir,
    listenHost: "127.0.0.1",
    listenPort: ports.http,
    httpsPort: ports.https,
    controlUrl: `http://127.0.0.1:${ports.control}`,
  });
  let nginx: ChildProcess | undefined;
  try {
    await gateway.applyConfigText(text);
    nginx = await startNginx(gateway, ports.http);
    return await use(gateway, nginx.pid ?? 0);
  } finally {
    if (nginx && nginx.exitCode === null) {
      const exited = once(nginx, "exit");
      nginx.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
    }
  }
}

/** Starts nginx on the form's config for `s`, times RELOADS route switches, reads RSS, stops it. */
async function measure(
  form: Form,
  s: Scenario,
  { dir, certificates }: Installed,
  ports: Ports,
  ca: LocalCa,
  upstreams: { a: Upstream; b: Upstream },
  reloads = RELOADS,
): Promise<Measured> {
  const withUpstream = (upstream: Upstream) =>
    s.routes.map((r) => (r.hostname === s.switched ? { ...r, upstreamPort: upstream.port } : r));
  const render = (upstream: Upstream) =>
    form.render(withUpstream(upstream), s.sites, ports, dir, certificates);
  const out: Measured = { configKiB: 0, renderMs: [], testMs: [], liveMs: [], workerMiB: 0, masterMiB: 0 };
  const first = render(upstreams.a);
  out.configKiB = Buffer.byteLength(first) / 1024;
  return withNginx(dir, ports, first, async (gateway, master) => {
    for (let i = 0; i < reloads; i++) {
      const target = i % 2 === 0 ? upstreams.b : upstreams.a;
      const t0 = performance.now();
      const text = render(target);
      out.renderMs.push(performance.now() - t0);
      const candidate = join(dir, "nginx.conf.bench.tmp");
      await writeFile(candidate, text);
      out.testMs.push(await nginxTest(dir, candidate));
      await rename(candidate, gateway.paths.config);
      const reloadAt = performance.now();
      process.kill(master, "SIGHUP");
      const deadline = Date.now() + 60_000;
      const ask = () =>
        s.tlsHosts.includes(s.switched)
          ? getTls(ports.https, s.switched, ca.certPem)
          : get(ports.http, s.switched);
      while ((await ask().catch(() => "")) !== target.name) {
        if (Date.now() > deadline) throw new Error(`${form.name}: the switched route never went live`);
      }
      out.liveMs.push(performance.now() - reloadAt);
      await oneWorker(master);
    }
    // what a worker holds once it served hosts across the config, plain and TLS
    for (let i = 0; i < SAMPLE; i++) {
      const plain = s.plainHosts[Math.floor((i * s.plainHosts.length) / SAMPLE)];
      const secure = s.tlsHosts[Math.floor((i * s.tlsHosts.length) / SAMPLE)];
      if (plain && i % 2 === 0) await get(ports.http, plain);
      if (secure && i % 2 === 1) await getTls(ports.https, secure, ca.certPem);
    }
    const worker = await oneWorker(master);
    out.workerMiB = (await rssKiB(worker)) / 1024;
    out.masterMiB = (await rssKiB(master)) / 1024;
    return out;
  });
}

/**
 * One TLS handshake for `host` (SNI), its certificate verified for that name; `session` resumes one.
 * Resolves with whether it was resumed and, when `keep`, the session the server then sent.
 */
function handshake(
  port: number,
  host: string,
  ca: string,
  options: { session?: Buffer; keep?: boolean } = {},
): Promise<{ resumed: boolean; session?: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: host,
      ca,
      ...(options.session ? { session: options.session } : {}),
    });
    socket.setTimeout(5000, () => socket.destroy(new Error("handshake timed out")));
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      const resumed = socket.isSessionReused();
      if (!options.keep) {
        socket.destroy();
        resolve({ resumed });
      }
    });
    // TLS 1.3 sends the session after the handshake
    socket.once("session", (session: Buffer) => {
      if (!options.keep) return;
      socket.destroy();
      resolve({ resumed: socket.isSessionReused(), session });
    });
  });
}

/** CPU time a process used so far, in ms (user and system; clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface HandshakeCost {
  fullCpuMs: number;
  fullPerSecond: number;
  resumedCpuMs: number;
  resumedAfterReload: boolean;
}

/**
 * What TLS handshakes cost nginx's worker on the form's config for `s`: HANDSHAKES full ones (no
 * session), 4 at a time over the TLS hosts in turn, then as many resumed ones for one host; and
 * whether that session is still resumed after a reload.
 */
async function measureHandshakes(
  form: Form,
  s: Scenario,
  { dir, certificates }: Installed,
  ports: Ports,
  ca: LocalCa,
): Promise<HandshakeCost> {
  const text = form.render(s.routes, s.sites, ports, dir, certificates);
  return withNginx(dir, ports, text, async (_gateway, master) => {
    const worker = await oneWorker(master);
    const host = (i: number) => s.tlsHosts[(i * 7) % s.tlsHosts.length] ?? "";
    let next = 0;
    const full = async () => {
      for (let i = next++; i < HANDSHAKES; i = next++) await handshake(ports.https, host(i), ca.certPem);
    };
    await handshake(ports.https, host(0), ca.certPem); // the worker's first handshake sets things up
    const cpu0 = await cpuMs(worker);
    const t0 = performance.now();
    await Promise.all([full(), full(), full(), full()]);
    const fullMs = performance.now() - t0;
    const cpu1 = await cpuMs(worker);
    const { session } = await handshake(ports.https, host(0), ca.certPem, { keep: true });
    for (let i = 0; i < HANDSHAKES; i++) {
      const { resumed } = await handshake(ports.https, host(0), ca.certPem, {
        ...(session ? { session } : {}),
      });
      if (!resumed) throw new Error(`${form.name}: a session was not resumed`);
    }
    const cpu2 = await cpuMs(worker);
    process.kill(master, "SIGHUP");
    while ((await oneWorker(master)) === worker) await sleep(10);
    const after = await handshake(ports.https, host(0), ca.certPem, { ...(session ? { session } : {}) });
    return {
      fullCpuMs: (cpu1 - cpu0) / HANDSHAKES,
      fullPerSecond: (HANDSHAKES / fullMs) * 1000,
      resumedCpuMs: (cpu2 - cpu1) / HANDSHAKES,
      resumedAfterReload: after.resumed,
    };
  });
}

async function writeCertificates(dir: string, ca: LocalCa, sites: Site[]): Promise<Installed> {
  const certificates = new Map<string, CertificatePem>();
  for (const site of sites) {
    if (site.certificate === undefined) continue;
    const leaf = await issueCertificate(ca, { hostnames: [`*.${site.domain}`] });
    await writeKeyMaterial(join(dir, "certs"), site.certificate, leaf);
    certificates.set(site.certificate, certificatePem(leaf));
  }
  return { dir, certificates };
}

async function main() {
  const started = performance.now();
  const ca = await createLocalCa({ commonName: "edgeplane bench CA" });
  const pool = await Promise.all(Array.from({ length: 20 }, (_, i) => startUpstream(`pool-${i}`)));
  const a = await startUpstream("A");
  const b = await startUpstream("B");
  const control = createServer((_req, res) => res.writeHead(200).end("status page"));
  control.listen(0, "127.0.0.1");
  await once(control, "listening");
  const ports: Ports = {
    http: await freePort(),
    https: await freePort(),
    control: (control.address() as AddressInfo).port,
  };
  const dirs: string[] = [];
  const freshDir = async (s: Scenario) => {
    const dir = await mkdtemp(join(tmpdir(), "edgeplane-bench-gateway-"));
    dirs.push(dir);
    return writeCertificates(dir, ca, s.sites);
  };
  try {
    for (const n of SIZES) {
      const s = scenario(n, pool);
      const certificates = s.sites.filter((site) => site.certificate).length;
      const rows: Array<Array<string | number>> = [];
      for (const form of [serverForm, mapForm]) {
        // the baseline takes seconds per reload at this scale: fewer of them
        const reloads = form === serverForm ? Math.min(RELOADS, 3) : RELOADS;
        const m = await measure(form, s, await freshDir(s), ports, ca, { a, b }, reloads);
        rows.push([
          form.name,
          m.configKiB,
          percentile(m.renderMs, 0.5),
          percentile(m.testMs, 0.5),
          percentile(m.liveMs, 0.5),
          Math.max(...m.liveMs),
          m.workerMiB,
          m.masterMiB,
        ]);
      }
      console.log(
        `\n${n} environments: ${s.sites.length} projects, ${certificates} with a wildcard certificate ` +
          `(${s.tlsHosts.length} TLS hosts); ${RELOADS} reloads timed (3 before) (ms; target: live in ≤150 at 5000)\n`,
      );
      console.log(
        table(
          [
            "form",
            "config KiB",
            "render p50",
            "nginx -t p50",
            "reload→live p50",
            "reload→live max",
            "worker RSS MiB",
            "master RSS MiB",
          ],
          rows,
        ),
      );
    }

    console.log(
      "\none wildcard certificate over N TLS hosts: worker RSS (target: flat now) and reload→live p50 of 3\n",
    );
    const rows: Array<Array<string | number>> = [];
    for (const n of [100, 1000, 5000]) {
      // one project: every host under one wildcard certificate
      const one = scenario(n, pool, 1);
      const single: Scenario = {
        ...one,
        routes: one.routes.map((r, i) => ({
          ...r,
          hostname: `pr-${i}.one.bench.test`,
          certificate: "_wildcard.one.bench.test",
        })),
        sites: [{ domain: "one.bench.test", certificate: "_wildcard.one.bench.test" }],
      };
      single.tlsHosts = single.routes.map((r) => r.hostname);
      single.plainHosts = [];
      single.switched = single.tlsHosts[Math.floor(n / 2)] ?? "";
      const row: Array<string | number> = [String(n)];
      for (const form of [serverForm, mapForm]) {
        const m = await measure(form, single, await freshDir(single), ports, ca, { a, b }, 3);
        row.push(m.workerMiB, percentile(m.liveMs, 0.5));
      }
      rows.push(row);
    }
    console.log(
      table(
        ["TLS hosts", "before: worker RSS MiB", "reload→live ms", "now: worker RSS MiB", "reload→live ms"],
        rows,
      ),
    );

    const s = scenario(SIZES[0] ?? 1000, pool);
    const certificates = s.sites.filter((site) => site.certificate).length;
    console.log(
      `\nTLS handshakes at ${s.routes.length} environments (${certificates} certificates): ${HANDSHAKES} full ` +
        "(4 at a time, over the TLS hosts), then as many resumed; nginx worker CPU per handshake\n",
    );
    const handshakeRows: Array<Array<string | number>> = [];
    for (const form of [serverForm, mapForm]) {
      const h = await measureHandshakes(form, s, await freshDir(s), ports, ca);
      handshakeRows.push([
        form.name,
        h.fullCpuMs,
        h.fullPerSecond,
        h.resumedCpuMs,
        h.resumedAfterReload ? "yes" : "no",
      ]);
    }
    console.log(
      table(
        ["form", "full: CPU ms", "full per s", "resumed: CPU ms", "resumed after a reload"],
        handshakeRows,
        2,
      ),
    );
    console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
  } finally {
    for (const u of [...pool, a, b]) u.server.close();
    control.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

await main();
