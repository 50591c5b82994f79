import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { Agent } from "node:http";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createLocalCa, issueCertificate, type LocalCa } from "@edgeplane/tls";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  certificateFileName,
  GatewayConfigError,
  type KeyMaterial,
  NginxGateway,
  NOT_FOUND_BODY,
  type Route,
  type Site,
} from "../src/index.ts";
import { childPids } from "../src/proc.ts";
import { servers } from "./config.ts";
import {
  fetchHost,
  fetchTls,
  freePort,
  isStaleKeepAlive,
  type Reply,
  send,
  startUpstream,
  stopProcess,
  type Upstream,
} from "./helpers.ts";

const HOST = "app.edgeplane.test";

let dir: string;
let port: number;
let gateway: NginxGateway;
let nginx: ChildProcess | undefined;
let upstreamA: Upstream;
let upstreamB: Upstream;

const routeTo = (upstream: Upstream, hostname = HOST): Route => ({
  hostname,
  upstreamPort: upstream.port,
  environmentId: "env_0a1b2c",
});

async function startWith(routes: Route[]): Promise<void> {
  await gateway.apply(routes);
  nginx = await gateway.start();
}

describe("NginxGateway", () => {
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeplane-gateway-"));
    port = await freePort();
    gateway = new NginxGateway({ dir, listenHost: "127.0.0.1", listenPort: port });
    upstreamA = await startUpstream("A");
    upstreamB = await startUpstream("B");
  });

  afterEach(async () => {
    await stopProcess(nginx);
    nginx = undefined;
    await upstreamA.close();
    await upstreamB.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("routes by Host and answers unknown hosts with 404", async () => {
    await startWith([routeTo(upstreamA)]);
    expect(await gateway.isRunning()).toBe(true);
    expect(await fetchHost(port, HOST)).toEqual({ status: 200, body: "A" });
    expect(await fetchHost(port, "other.edgeplane.test")).toEqual({
      status: 404,
      body: "no environment serves this host\n",
    });
  });

  it("starts with an empty config when none exists", async () => {
    nginx = await gateway.start();
    expect((await fetchHost(port, HOST)).status).toBe(404);
    await gateway.apply([routeTo(upstreamA)]);
    expect(await fetchHost(port, HOST)).toEqual({ status: 200, body: "A" });
  });

  it("rejects a bad config and keeps the previous one serving", async () => {
    await startWith([routeTo(upstreamA)]);
    const before = await readFile(gateway.paths.config);

    await expect(gateway.applyConfigText("garbage {")).rejects.toThrow(GatewayConfigError);
    await expect(gateway.applyConfigText("garbage {")).rejects.toThrow(/garbage/);
    await expect(gateway.apply([routeTo(upstreamB, "b;c.test")])).rejects.toThrow(GatewayConfigError);

    expect(await readFile(gateway.paths.config)).toEqual(before);
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    expect(await fetchHost(port, HOST)).toEqual({ status: 200, body: "A" });
  });

  it("switches upstreams with zero failed requests, and the old upstream can go once the old workers drained", async () => {
    await startWith([routeTo(upstreamA)]);
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    // when each keep-alive socket connected
    const connectedAt = new WeakMap<object, number>();
    const connect = keepAlive.createConnection.bind(keepAlive);
    keepAlive.createConnection = (options, callback) => {
      const socket = connect(options, callback);
      if (socket) connectedAt.set(socket, performance.now());
      return socket;
    };
    const replies: { loop: number; startedAt: number; reply?: Reply; error?: string }[] = [];
    const staleSockets: Socket[] = [];
    let stop = false;
    const loop = async (agent: Agent | false, index: number) => {
      while (!stop) {
        const startedAt = performance.now();
        try {
          const reply = await fetchHost(port, HOST, agent).catch((error: unknown) => {
            // An old worker closes its idle keep-alive connections when it drains; a GET that raced
            // that close was never answered, and a client retries it as a browser would.
            if (!isStaleKeepAlive(error)) throw error;
            staleSockets.push((error as { socket: Socket }).socket);
            return fetchHost(port, HOST, agent);
          });
          replies.push({ loop: index, startedAt, reply });
        } catch (error) {
          replies.push({ loop: index, startedAt, error: String(error) });
        }
      }
    };
    const agents: (Agent | false)[] = [keepAlive, keepAlive, keepAlive, keepAlive, false, false];
    const loops = agents.map((agent, index) => loop(agent, index));
    /** Waits until every loop has had `count` replies started after `from`, or the deadline passes. */
    const untilEveryLoop = async (count: number, from: number) => {
      const deadline = Date.now() + 30_000;
      const enough = () =>
        agents.every((_, i) => replies.filter((r) => r.loop === i && r.startedAt >= from).length >= count);
      while (!enough() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return enough();
    };

    try {
      // every client is under way, keep-alive sockets included, before the switch
      expect(await untilEveryLoop(5, 0)).toBe(true);
      const reloadStartedAt = performance.now();
      const { drained } = await gateway.apply([routeTo(upstreamB)]);
      await drained;
      const appliedAt = performance.now();
      await upstreamA.close();
      // every client keeps going after the old workers are gone and the old upstream too
      expect(await untilEveryLoop(20, appliedAt)).toBe(true);
      stop = true;
      await Promise.all(loops);

      expect(replies.filter(({ reply }) => reply?.status !== 200)).toEqual([]);
      // A stale close only ever hits a keep-alive socket that was open before the reload, once each:
      // the new workers never drop a connection.
      expect(new Set(staleSockets).size).toBe(staleSockets.length);
      for (const socket of staleSockets)
        expect(connectedAt.get(socket) ?? Infinity).toBeLessThan(reloadStartedAt);
      const bodies = (from: number, to: number) =>
        new Set(replies.filter((r) => r.startedAt >= from && r.startedAt < to).map((r) => r.reply?.body));
      expect(bodies(0, reloadStartedAt)).toEqual(new Set(["A"]));
      expect(bodies(appliedAt, Number.POSITIVE_INFINITY)).toEqual(new Set(["B"]));
    } finally {
      stop = true;
      await Promise.all(loops);
      keepAlive.destroy();
    }
  });

  it("serializes concurrent applies in call order", async () => {
    await startWith([routeTo(upstreamA)]);
    await Promise.all([
      gateway.apply([routeTo(upstreamB)]),
      gateway.apply([routeTo(upstreamA)]),
      gateway.apply([routeTo(upstreamB)]),
    ]);
    expect(await fetchHost(port, HOST)).toEqual({ status: 200, body: "B" });
  });

  it("tests a config with nginx -t only when more than its maps' entries changed", async () => {
    // nginx run through a wrapper that notes each config test
    const calls = join(dir, "tests.log");
    const wrapper = join(dir, "nginx-wrapper.sh");
    await writeFile(
      wrapper,
      `#!/bin/sh\ncase " $* " in *" -t "*) echo test >> ${calls};; esac\nexec nginx "$@"\n`,
      { mode: 0o700 },
    );
    gateway = new NginxGateway({ dir, listenHost: "127.0.0.1", listenPort: port, nginxBin: wrapper });
    const tests = async () =>
      (await readFile(calls, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
    await startWith([routeTo(upstreamA)]);
    expect(await tests()).toBe(1);

    // a host added, an upstream switched: map entries only, applied without a test, and served
    await gateway.apply([routeTo(upstreamB), routeTo(upstreamA, "second.edgeplane.test")]);
    expect(await tests()).toBe(1);
    expect(await fetchHost(port, HOST)).toEqual({ status: 200, body: "B" });
    expect(await fetchHost(port, "second.edgeplane.test")).toEqual({ status: 200, body: "A" });

    // anything outside the maps changed: tested again
    const current = await readFile(gateway.paths.config, "utf8");
    await gateway.applyConfigText(
      current.replace("server_tokens off;", "server_tokens off;\n  tcp_nodelay on;"),
    );
    expect(await tests()).toBe(2);
    // and a config nginx rejects is still refused, the previous one serving on
    await expect(
      gateway.applyConfigText(current.replace("server_tokens off;", "server_tokens maybe;")),
    ).rejects.toThrow(GatewayConfigError);
    expect(await tests()).toBe(3);
    expect(await fetchHost(port, HOST)).toEqual({ status: 200, body: "B" });
  });

  it("reloads nothing for the config it serves already, and repairs one changed on disk", async () => {
    await startWith([routeTo(upstreamA)]);
    const master = nginx?.pid;
    if (master === undefined) throw new Error("nginx did not start");
    const workers = await childPids(master);
    await gateway.apply([routeTo(upstreamA)]);
    expect(await childPids(master)).toEqual(workers); // the same workers: no reload
    // the file changed by someone else: the same state is installed and reloaded again
    const served = await readFile(gateway.paths.config, "utf8");
    await writeFile(gateway.paths.config, served.replace("server_tokens off;", "server_tokens on;"));
    await gateway.apply([routeTo(upstreamA)]);
    expect(await readFile(gateway.paths.config, "utf8")).toBe(served);
    expect([...(await childPids(master))].some((pid) => !workers.has(pid))).toBe(true);
    expect(await fetchHost(port, HOST)).toEqual({ status: 200, body: "A" });
  });

  it("proxies large bodies both ways without temp files", async () => {
    // Workers run as an unprivileged user that cannot reach the 0700 temp dir when started as root.
    const big = await startUpstream("big", (req, res) => {
      let received = 0;
      req.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/octet-stream", "x-received": String(received) });
        res.end(Buffer.alloc(8 * 1024 * 1024, 1));
      });
    });
    try {
      await startWith([routeTo(big)]);
      const reply = await send(port, HOST, {
        method: "POST",
        body: Buffer.alloc(512 * 1024, 2),
        readDelayMs: 300, // a slow reader makes nginx hold the response
      });
      expect(reply.status).toBe(200);
      expect(reply.headers["x-received"]).toBe(String(512 * 1024));
      expect(reply.body.length).toBe(8 * 1024 * 1024);
      expect(await readFile(gateway.paths.errorLog, "utf8")).not.toMatch(/\[(crit|error)\]/);
    } finally {
      await big.close();
    }
  });

  it("rejects start() when the port is taken", async () => {
    const blocker = createServer();
    blocker.listen(port, "127.0.0.1");
    await once(blocker, "listening");
    try {
      await expect(gateway.start()).rejects.toThrow(/exited during startup/);
      expect(await gateway.isRunning()).toBe(false);
    } finally {
      blocker.close();
    }
  });
});

/**
 * Many routes through one real nginx: 300 hosts over six projects, half of them with a wildcard
 * certificate per project and one host with a certificate of its own. Every host is served by a
 * server of its own on a 127.0.0.x address that answers with its environment id.
 */
describe("NginxGateway with many routes", () => {
  const PROJECTS = 6;
  const HOSTS = 50;
  const CREDENTIALS = `Basic ${Buffer.from("dev:secret").toString("base64")}`;
  const token = "scale-token";
  const keyAuthorization = `${token}.thumbprint`;
  const domain = (p: number) => `p${p}.scale.test`;
  const tlsProject = (p: number) => p % 2 === 0;
  const special = `h7.${domain(0)}`;
  // project 1 (plain HTTP) and 2 (TLS) protect their first hosts; 3 and 4 have sleeping ones
  const isProtected = (p: number, h: number) => (p === 1 || p === 2) && h < 5;
  const isSleeping = (p: number, h: number) => (p === 3 || p === 4) && h < 3;

  let dir: string;
  let port: number;
  let httpsPort: number;
  let gateway: NginxGateway;
  let nginx: ChildProcess | undefined;
  let ca: LocalCa;
  let control: Upstream;
  const upstreams: Upstream[] = [];
  const routes: Route[] = [];
  const certificates = new Map<string, KeyMaterial>();
  const projectOf = new Map<string, number>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeplane-gateway-scale-"));
    port = await freePort();
    httpsPort = await freePort();
    control = await startUpstream("control", (req, res) => {
      const host = req.headers.host ?? "";
      const url = req.url ?? "";
      if (url.startsWith("/gateway/access")) {
        const ok = req.headers.authorization === CREDENTIALS;
        res.writeHead(ok ? 204 : 401, ok ? {} : { "www-authenticate": 'Basic realm="edgeplane"' });
        res.end();
      } else if (url.startsWith("/gateway/bypass")) {
        res.writeHead(302, { location: "/", "set-cookie": "edgeplane_bypass=t" }).end();
      } else if (url.startsWith("/gateway/wake/")) {
        res.writeHead(200).end(`waker ${host} ${url}`);
      } else if (url.startsWith("/pages/status")) {
        res.writeHead(200).end(`status ${host} ${url}`);
      } else res.writeHead(500).end(`control got ${url}`);
    });
    gateway = new NginxGateway({
      dir,
      listenHost: "127.0.0.1",
      listenPort: port,
      httpsPort,
      controlUrl: `http://127.0.0.1:${control.port}`,
    });

    ca = await createLocalCa({ commonName: "edgeplane scale test CA" });
    const sites: Site[] = [];
    for (let p = 0; p < PROJECTS; p++) {
      const wildcard = `*.${domain(p)}`;
      if (tlsProject(p)) {
        const leaf = await issueCertificate(ca, { hostnames: [wildcard] });
        certificates.set(certificateFileName(wildcard), leaf);
      }
      sites.push({
        domain: domain(p),
        ...(tlsProject(p) ? { certificate: certificateFileName(wildcard) } : {}),
        ...(p === 1 || p === 2 ? { protect: true } : {}),
      });
      for (let h = 0; h < HOSTS; h++) {
        const environmentId = `env_${(p * HOSTS + h + 1).toString(16)}`;
        const upstream = await startUpstream(environmentId, undefined, `127.0.0.${2 + p}`);
        upstreams.push(upstream);
        const hostname = `h${h}.${domain(p)}`;
        projectOf.set(hostname, p);
        routes.push({
          hostname,
          upstreamHost: `127.0.0.${2 + p}`,
          upstreamPort: upstream.port,
          environmentId,
          ...(tlsProject(p)
            ? { certificate: hostname === special ? special : certificateFileName(wildcard) }
            : {}),
          ...(isProtected(p, h) ? { protect: true } : {}),
          ...(isSleeping(p, h) ? { sleeping: true } : {}),
        });
      }
    }
    // a chain longer than one config token may be (4 KiB), as with intermediates: the CA, thrice
    const own = await issueCertificate(ca, { hostnames: [special] });
    certificates.set(special, { ...own, chainPem: `${own.chainPem}\n${ca.certPem}\n${ca.certPem}` });
    await gateway.apply(routes, { sites, challenges: [{ token, keyAuthorization }], certificates });
    nginx = await gateway.start();
  });

  afterAll(async () => {
    await stopProcess(nginx);
    await Promise.all([control, ...upstreams].map((u) => u?.close()));
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `check` for every route, a few at a time. */
  async function eachRoute(check: (route: Route, p: number, h: number) => Promise<void>): Promise<void> {
    for (let i = 0; i < routes.length; i += 20) {
      await Promise.all(
        routes.slice(i, i + 20).map((route, j) => {
          const index = i + j;
          return check(route, Math.floor(index / HOSTS), index % HOSTS);
        }),
      );
    }
  }

  it("renders one TLS server for every certificate's hosts, not one server per host or certificate", async () => {
    const text = await readFile(gateway.paths.config, "utf8");
    const tls = servers(text).filter((s) => s.listen === `127.0.0.1:${httpsPort} ssl`);
    expect(tls.map((s) => s.names)).toEqual([
      [`*.${domain(0)}`, `*.${domain(2)}`, `*.${domain(4)}`, special],
    ]);
    expect(servers(text)).toHaveLength(3); // plain HTTP, the HTTPS default and the TLS server
    // certificates are in the config: the worker (an unprivileged user here) reads no key file,
    // and none is written beside it
    expect(text).not.toMatch(/ssl_certificate(_key)? \//);
    expect(await readdir(dir)).not.toContain("certs");
    expect(text).toContain(
      "ssl_certificate data:$edgeplane_certificate_chain_0$edgeplane_certificate_chain_1;",
    );
    // no hash nginx had to build slowly, no conflicting names
    expect(await readFile(gateway.paths.errorLog, "utf8")).not.toMatch(/\[(warn|error|crit|emerg)\]/);
  });

  it("serves every host its own environment, over HTTPS with the certificate covering it", async () => {
    await eachRoute(async (route, p, h) => {
      if (route.protect || route.sleeping) return;
      if (!tlsProject(p)) {
        expect(await fetchHost(port, route.hostname), route.hostname).toEqual({
          status: 200,
          body: route.environmentId,
        });
        return;
      }
      const redirect = await send(port, route.hostname, { path: "/a?b=1" });
      expect(redirect.status, route.hostname).toBe(308);
      expect(redirect.headers.location).toBe(`https://${route.hostname}:${httpsPort}/a?b=1`);
      const reply = await fetchTls(httpsPort, route.hostname, ca.certPem);
      expect({ status: reply.status, body: reply.body }, route.hostname).toEqual({
        status: 200,
        body: route.environmentId,
      });
      const name = route.hostname === special ? special : `*.${domain(p)}`;
      expect(reply.certificate.subject.CN, `h${h} of project ${p}`).toBe(name);
      expect(reply.certificate.subjectaltname).toBe(`DNS:${name}`);
    });
  });

  it("refuses certificate files nginx could not present, the config before serving on", async () => {
    const name = `h0.${domain(4)}`;
    const mismatched = await issueCertificate(ca, { hostnames: [name] });
    const other = await issueCertificate(ca, { hostnames: [name] });
    const withOwn = routes.map((r) => (r.hostname === name ? { ...r, certificate: name } : r));
    const given = new Map(certificates).set(name, { ...mismatched, keyPem: other.keyPem });
    await expect(gateway.apply(withOwn, { certificates: given })).rejects.toThrow(/does not belong/);
    const reply = await fetchTls(httpsPort, name, ca.certPem);
    expect([reply.status, reply.certificate.subject.CN]).toEqual([200, `*.${domain(4)}`]);
  });

  it("answers unknown hosts 404, and hosts under a project's domain with its status page", async () => {
    for (const host of ["nothing.test", "p9.scale.test", domain(1), "a.b.unknown.test"]) {
      expect(await fetchHost(port, host)).toEqual({ status: 404, body: NOT_FOUND_BODY });
    }
    await expect(fetchTls(httpsPort, "nothing.test", ca.certPem)).rejects.toThrow();
    expect(await fetchHost(port, `h999.${domain(3)}`)).toEqual({
      status: 200,
      body: `status h999.${domain(3)} /pages/status`,
    });
    expect((await send(port, `h999.${domain(4)}`)).status).toBe(308);
    const status = await fetchTls(httpsPort, `h999.${domain(4)}`, ca.certPem);
    expect(status.body).toBe(`status h999.${domain(4)} /pages/status`);
    expect(status.certificate.subject.CN).toBe(`*.${domain(4)}`);
  });

  it("answers ACME HTTP-01 challenges on plain HTTP for hosts under a site, never redirected", async () => {
    for (const host of [`h1.${domain(0)}`, `h999.${domain(0)}`, `h1.${domain(3)}`]) {
      const path = `/.well-known/acme-challenge/${token}`;
      expect(await send(port, host, { path }).then((r) => [r.status, r.body.toString()])).toEqual([
        200,
        keyAuthorization,
      ]);
      expect((await send(port, host, { path: "/.well-known/acme-challenge/other" })).status).toBe(404);
    }
  });

  it("asks the control plane before serving a protected host only", async () => {
    for (const [p, hostname] of [
      [1, `h0.${domain(1)}`],
      [2, `h0.${domain(2)}`],
    ] as const) {
      const get = (options: Parameters<typeof send>[2] = {}) =>
        p === 2
          ? fetchTls(httpsPort, hostname, ca.certPem, options.path)
          : send(port, hostname, options).then((r) => ({ ...r, body: r.body.toString() }));
      const denied = await get();
      expect(denied.status, hostname).toBe(401);
      const id = routes.find((r) => r.hostname === hostname)?.environmentId;
      if (p === 1) {
        const allowed = await send(port, hostname, { headers: { authorization: CREDENTIALS } });
        expect([allowed.status, allowed.body.toString()]).toEqual([200, id]);
        // a bypass link goes to the control plane; the protection paths are not reachable from outside
        expect((await send(port, hostname, { path: "/?edgeplane_bypass=t" })).status).toBe(302);
        expect((await send(port, hostname, { path: "/.edgeplane/access" })).status).toBe(404);
      }
    }
    // an unprotected host of the same project passes, its own /.edgeplane/access included
    expect(await fetchHost(port, `h5.${domain(1)}`)).toEqual({
      status: 200,
      body: routes[HOSTS + 5]?.environmentId,
    });
    const own = await send(port, `h5.${domain(1)}`, { path: "/.edgeplane/access" });
    expect([own.status, own.body.toString()]).toEqual([200, routes[HOSTS + 5]?.environmentId]);
    // a protected project's status page asks too
    expect((await fetchHost(port, `h999.${domain(1)}`)).status).toBe(401);
  });

  it("sends sleeping environments' hosts to the waker with their path, and logs them as activity", async () => {
    expect(await fetchHost(port, `h0.${domain(3)}`)).toEqual({
      status: 200,
      body: `waker h0.${domain(3)} /gateway/wake/`,
    });
    const deep = await send(port, `h1.${domain(3)}`, { path: "/a/b?c=1" });
    expect(deep.body.toString()).toBe(`waker h1.${domain(3)} /gateway/wake/a/b?c=1`);
    const tls = await fetchTls(httpsPort, `h2.${domain(4)}`, ca.certPem, "/x");
    expect(tls.body).toBe(`waker h2.${domain(4)} /gateway/wake/x`);

    await fetchHost(port, `h10.${domain(5)}`);
    await fetchHost(port, `h999.${domain(5)}`); // a status page: no environment's activity
    await fetchHost(port, "nothing.test");
    let logged = new Set<string>();
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const text = await readFile(gateway.paths.activityLog, "utf8").catch(() => "");
      logged = new Set(text.split("\n").map((line) => line.split(" ")[1] ?? ""));
      if (logged.has(`h10.${domain(5)}`) && logged.has(`h2.${domain(4)}`)) break;
      await sleep(100);
    }
    for (const host of [`h0.${domain(3)}`, `h1.${domain(3)}`, `h2.${domain(4)}`, `h10.${domain(5)}`])
      expect(logged.has(host), host).toBe(true);
    for (const host of [`h999.${domain(5)}`, "nothing.test"]) expect(logged.has(host), host).toBe(false);
  });
});
