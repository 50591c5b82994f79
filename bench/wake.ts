/**
 * Sleep and wake benchmark: how long does the first request to a sleeping preview wait, next to a
 * bare `docker start` of the same stopped container, and how much memory do sleeping previews give
 * back? In one run, against one `edgeplane up` with `sleepAfterSeconds: 10`:
 *   - N rounds of: let the preview fall asleep (its container stopped), then one plain request
 *     through the gateway → its 200 (the request itself wakes it and is held until it serves);
 *   - N bare rounds, alternating with those: `docker start` of a stopped container of the same
 *     image (port published on loopback) → first 200 on that port;
 * then the memory the awake container used (what sleeping gives back). Prints tables, asserts
 * nothing. BENCH_WAKES sets N (default 5).
 */

import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { docker, publishTestImage } from "../test/support/images.ts";
import { TestSystem } from "../test/support/system.ts";
import { percentile, statsRow, table } from "./support/stats.ts";

const N = Math.max(1, Number(process.env.BENCH_WAKES ?? 5) || 5);
const fresh = new Agent({ keepAlive: false });

function get(port: number, host: string, path = "/"): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host }, agent: fresh }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(60_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function memoryBytes(id: string): Promise<number> {
  const stats = (await docker.getContainer(id).stats({ stream: false })) as {
    memory_stats?: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number } };
  };
  const usage = stats.memory_stats?.usage ?? 0;
  const cache =
    stats.memory_stats?.stats?.total_inactive_file ?? stats.memory_stats?.stats?.inactive_file ?? 0;
  return usage - cache;
}

async function main() {
  const system = new TestSystem();
  const image = await publishTestImage(`acme/bench-wake-${system.id}`, "v1", { message: "awake" });
  const bare = await docker.createContainer({
    Image: image,
    Env: ["PORT=8080"],
    ExposedPorts: { "8080/tcp": {} },
    HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
  });
  try {
    await system.start({ EDGEPLANE_SLEEP_CHECK_MS: "500" });
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "nap",
        domain: "nap.test",
        port: 8080,
        healthcheckPath: "/healthz",
        sleepAfterSeconds: 10,
      },
    });
    if (project.status !== 201) throw new Error(`project: ${project.status}`);
    const deploy = await system.api<{ id: string }>("POST", "/v1/deployments", {
      body: { project: "nap", environment: "pr-1", image },
    });
    if ((await system.waitForDeployment(deploy.body.id)).status !== "ready") throw new Error("deploy failed");
    const host = "pr-1.nap.test";
    const env = (await system.api<{ id: string }>("GET", "/v1/projects/nap/environments/pr-1")).body;
    const [container] = await system.containers(env.id);
    if (!container) throw new Error("no container");
    const awakeMemory = await memoryBytes(container.Id);

    const wake: number[] = [];
    const start: number[] = [];
    for (let i = 0; i < N; i++) {
      await until(
        async () =>
          (await system.api<{ status: string }>("GET", "/v1/projects/nap/environments/pr-1")).body.status ===
            "sleeping" && !(await docker.getContainer(container.Id).inspect()).State.Running,
        90_000,
        "the preview to sleep",
      );
      const t0 = performance.now();
      const status = await get(system.gatewayPort, host);
      if (status !== 200) throw new Error(`wake answered ${status}:\n${system.logs.slice(-60).join("\n")}`);
      wake.push(performance.now() - t0);

      const t1 = performance.now();
      await bare.start();
      const port = Number((await bare.inspect()).NetworkSettings.Ports["8080/tcp"]?.[0]?.HostPort);
      await until(async () => (await get(port, "bare").catch(() => 0)) === 200, 30_000, "bare start");
      start.push(performance.now() - t1);
      await bare.stop({ t: 1 });
    }

    console.log(`\nwake latency, ${N} rounds (ms)\n`);
    console.log(
      table(
        ["", "p50", "p95", "min", "max"],
        [
          statsRow("first request to a sleeping preview → 200", wake),
          statsRow("bare docker start → first 200", start),
        ],
      ),
    );
    const ratio = percentile(wake, 0.5) / percentile(start, 0.5);
    console.log(
      `\nwake p50 = ${ratio.toFixed(2)}× a bare docker start (it includes the health check and the gateway's switch)`,
    );
    console.log(
      `\nmemory given back per sleeping preview of this image: ${(awakeMemory / 1024 / 1024).toFixed(1)} MiB (container working set while awake; 0 while asleep)`,
    );
  } finally {
    await bare.remove({ force: true }).catch(() => {});
    await system.stop();
  }
}

await main();
