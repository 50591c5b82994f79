import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type Docker from "dockerode";

/** How benchmarks wait for a first answer, and the bare `docker run` they compare against. */

/** Every probe opens a fresh connection, as a first visitor would; nothing lingers across reloads. */
export const fresh = new Agent({ keepAlive: false });

/** Docker timestamps carry nanoseconds; Date.parse wants at most milliseconds. */
export const dockerTime = (s: string | undefined) =>
  s ? Date.parse(s.replace(/(\.\d{3})\d+/, "$1")) : Number.NaN;
export const iso = (s: string | null | undefined) => (s ? Date.parse(s) : Number.NaN);

/** The status of `GET http://host:port/path` on a fresh connection. */
export function httpGet(host: string, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: fresh, timeout: 2000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** The client's polling interval: BENCH_POLL_MS (default 10). */
export const POLL_MS = Math.max(1, Number(process.env.BENCH_POLL_MS ?? 10) || 10);

/** Polls `probe` until it returns a value; gives up after `timeoutMs`, or once `stop` is aborted. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number; stop?: { aborted: boolean } } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!options.stop?.aborted) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(options.intervalMs ?? POLL_MS);
  }
  throw new Error(`stopped waiting for ${what}`);
}

/** One bare container, on the wall clock (ms since the epoch) but for `first200`. */
export interface BareRun {
  /** run → first 200, from the monotonic clock. */
  first200: number;
  posted: number;
  first200At: number;
  created: number;
  started: number;
}

/**
 * `docker run -d -e PORT=<port> -p 127.0.0.1::<port> <image>` → first 200 at `healthPath` on the
 * published port; then the container is removed. With `network`, `docker run --network <network>`
 * instead, reached at its address on that network (as the gateway reaches an environment's).
 */
export async function bareRun(
  docker: Docker,
  image: string,
  options: { label: string; containerPort: number; healthPath: string; network?: string },
): Promise<BareRun> {
  const portKey = `${options.containerPort}/tcp`;
  const posted = Date.now();
  const t0 = performance.now();
  const container = await docker.createContainer({
    Image: image,
    Env: [`PORT=${options.containerPort}`],
    Labels: { "edgeplane.bench": options.label },
    ...(options.network
      ? { HostConfig: { NetworkMode: options.network } }
      : {
          ExposedPorts: { [portKey]: {} },
          HostConfig: { PortBindings: { [portKey]: [{ HostIp: "127.0.0.1", HostPort: "" }] } },
        }),
  });
  try {
    await container.start();
    const info = await container.inspect();
    const [host, port] = options.network
      ? [info.NetworkSettings.Networks[options.network]?.IPAddress ?? "", options.containerPort]
      : ["127.0.0.1", Number(info.NetworkSettings.Ports[portKey]?.[0]?.HostPort)];
    if (!host || !port) throw new Error("bare container started without an address to reach it at");
    const at = await pollUntil(
      async () =>
        (await httpGet(host, port, options.healthPath).catch(() => 0)) === 200
          ? performance.now()
          : undefined,
      `bare container at ${host}:${port} to answer 200`,
    );
    const after = await container.inspect();
    return {
      first200: at - t0,
      posted,
      first200At: posted + (at - t0),
      created: dockerTime(after.Created),
      started: dockerTime(after.State.StartedAt),
    };
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

/** Runs both, the first one first on even rounds, so that neither always follows the other's cleanup. */
export async function alternate(round: number, first: () => Promise<void>, second: () => Promise<void>) {
  if (round % 2 === 0) {
    await first();
    await second();
  } else {
    await second();
    await first();
  }
}
