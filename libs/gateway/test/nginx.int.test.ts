import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GatewayConfigError, NginxGateway, type Route } from "../src/index.ts";
import {
  fetchHost,
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

async function startWith(routes: Route[]): Promise<void> {
  await gateway.apply(routes);
  nginx = await gateway.start();
}

describe("NginxGateway", () => {
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
