import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { createServer } from "node:net";
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
    const replies: { startedAt: number; reply?: Reply; error?: string }[] = [];
    let retries = 0;
    let stop = false;
    const loop = async (agent: Agent | false) => {
      while (!stop) {
        const startedAt = performance.now();
        try {
          const reply = await fetchHost(port, HOST, agent).catch((error: unknown) => {
            // An old worker closes its idle keep-alive connections when it drains; a GET that raced
            // that close was never answered, and a client retries it as a browser would.
            if (!isStaleKeepAlive(error)) throw error;
            retries += 1;
            return fetchHost(port, HOST, agent);
          });
          replies.push({ startedAt, reply });
        } catch (error) {
          replies.push({ startedAt, error: String(error) });
        }
      }
    };
    const agents: (Agent | false)[] = [keepAlive, keepAlive, keepAlive, keepAlive, false, false];
    const loops = agents.map((agent) => loop(agent));

    await new Promise((resolve) => setTimeout(resolve, 750));
    const { drained } = await gateway.apply([routeTo(upstreamB)]);
    await drained;
    const appliedAt = performance.now();
    await upstreamA.close();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await Promise.all(loops);
    keepAlive.destroy();

    expect(replies.filter(({ reply }) => reply?.status !== 200)).toEqual([]);
    // At most one stale close per keep-alive socket, and only from the one reload.
    expect(retries).toBeLessThanOrEqual(4);
    const bodies = (from: number, to: number) =>
      new Set(replies.filter((r) => r.startedAt >= from && r.startedAt < to).map((r) => r.reply?.body));
    expect(bodies(0, appliedAt).has("A")).toBe(true);
    expect(bodies(appliedAt, Number.POSITIVE_INFINITY)).toEqual(new Set(["B"]));
    expect(replies.filter((r) => r.startedAt >= appliedAt).length).toBeGreaterThan(50);
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
