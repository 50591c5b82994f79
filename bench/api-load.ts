/**
 * API load benchmark: accepted requests per second against one API process, with autocannon.
 *   - deploy requests (POST /v1/deployments, round-robin over 40 environments of one project): each
 *     202 is answered only once its intent is committed in Postgres;
 *   - signed GitHub webhook deliveries (POST /webhooks/github, `synchronize` of 20 pull requests,
 *     every body and delivery id distinct, so none is a replay);
 *   - the bare baseline in the same run: a Node HTTP server on this machine answering 202 to the same
 *     requests without doing anything, the ceiling of one Node process here.
 * Before each run the system finishes what the runs before it asked for (the deploy run's
 * environments are staged, started and routed: Docker work on the same cores), so each run measures
 * the API, not the pipeline catching up; how long that took is printed.
 * Each edgeplane run is made twice: with the whole system at work (every 202 also sets the pipeline
 * staging and starting containers on the same cores), and with the API alone, its workers paused
 * (SIGSTOP) for the run and resumed after it: what one API process takes, its jobs left queued.
 * A last run is the database's share alone: the same deploys' intent writes (recordDeployment, as
 * the API calls it, group commit and all) from the bench process, as many at once as the
 * connections, with no HTTP, authentication, validation or queue: what Postgres and the write path
 * allow on this machine, a ceiling for the API above it.
 * Prints two tables, asserts nothing: the rates, then the CPU each part of the machine spent per
 * accepted request (the API process, Postgres, Redis, this process, the whole machine from
 * /proc/stat) and the rate the machine's cores would allow at that cost.
 * BENCH_LOAD_SECONDS sets each run's length (default 10), BENCH_LOAD_CONNECTIONS the concurrent
 * connections (default 50).
 */

import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { createDb, type Db, eq, projects, rowVersion } from "@edgeplane/db";
import { recordDeployment } from "@edgeplane/pipeline";
import autocannon from "autocannon";
import { pullRequestPayload, signedDelivery } from "../test/support/github.ts";
import { publishTestImage } from "../test/support/images.ts";
import { TestSystem } from "../test/support/system.ts";
import { cpuByCommand, cpuMs, machineBusyMs, processTree } from "./support/procs.ts";
import { percentile, table } from "./support/stats.ts";

const SECONDS = Math.max(1, Number(process.env.BENCH_LOAD_SECONDS ?? 10) || 10);
const CONNECTIONS = Math.max(1, Number(process.env.BENCH_LOAD_CONNECTIONS ?? 50) || 50);

type Request = { method: "POST"; path: string; headers: Record<string, string>; body: string };

async function load(url: string, requests: () => Request): Promise<Outcome> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ setupRequest: (req) => ({ ...req, ...requests() }) }],
  });
  return {
    accepted: result["2xx"],
    perSecond: result["2xx"] / SECONDS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    other: result.non2xx + result.errors + result.timeouts,
  };
}

interface Outcome {
  accepted: number;
  perSecond: number;
  p50: number;
  p99: number;
  other: number;
}

/** CPU used so far (ms) by the API process, Postgres, Redis, this process and the whole machine. */
async function cpuNow(api: number | undefined) {
  const [services, machine, apiMs] = await Promise.all([
    cpuByCommand(["postgres", "redis-server"]),
    machineBusyMs(),
    api === undefined ? Promise.resolve(Number.NaN) : cpuMs(api),
  ]);
  const own = process.cpuUsage();
  return {
    api: apiMs,
    postgres: services.get("postgres") ?? 0,
    redis: services.get("redis-server") ?? 0,
    bench: (own.user + own.system) / 1000,
    machine,
  };
}

/**
 * The intent writes of CONNECTIONS concurrent deploy requests, as the API records them, for SECONDS:
 * each loop records a deployment and at once the next.
 */
async function intentWritesAlone(db: Db, image: string): Promise<Outcome> {
  const [found] = await db
    .select({ project: projects, version: rowVersion(projects) })
    .from(projects)
    .where(eq(projects.name, "load"));
  if (!found) throw new Error("project load not found");
  const latencies: number[] = [];
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        const started = performance.now();
        await recordDeployment(db, {
          project: found.project,
          projectVersion: found.version,
          environment: `env-${n++ % 40}`,
          image,
          requestedBy: null,
        });
        latencies.push(performance.now() - started);
      }
    }),
  );
  return {
    accepted: latencies.length,
    perSecond: latencies.length / SECONDS,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    other: 0,
  };
}

async function main() {
  const system = new TestSystem();
  const bare = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(202, { "content-type": "application/json" }).end('{"accepted":true}'));
  });
  await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
  const barePort = (bare.address() as { port: number }).port;
  try {
    const image = await publishTestImage(`acme/load-${system.id}`, "v1", { message: "load" });
    await system.start({ EDGEPLANE_RATE_LIMIT_DEPLOYS: "0", EDGEPLANE_RATE_LIMIT_WEBHOOKS: "0" });
    const secret = `whsec_${randomBytes(16).toString("hex")}`;
    const repository = `acme/load-${system.id}`;
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "load",
        domain: "load.test",
        port: 8080,
        maxEnvironments: 100,
        repository,
        webhookSecret: secret,
      },
    });
    if (project.status !== 201) throw new Error(`project: ${project.status}`);

    let n = 0;
    const deploy = (): Request => ({
      method: "POST",
      path: "/v1/deployments",
      headers: { authorization: `Bearer ${system.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ project: "load", environment: `env-${n++ % 40}`, image }),
    });
    // signed ahead of time: the benchmark measures the API's verification, not the client's signing
    const deliveries: Request[] = [];
    const base = Date.now();
    for (let i = 0; i < 20_000; i++) {
      const payload = pullRequestPayload("synchronize", {
        repository,
        number: 1 + (i % 20),
        sha: randomBytes(20).toString("hex"),
        updatedAt: new Date(base + i * 1000),
      });
      const d = await signedDelivery(secret, "pull_request", payload, randomUUID());
      deliveries.push({ method: "POST", path: "/webhooks/github", headers: d.headers, body: d.body });
    }
    let w = 0;
    const webhook = (): Request => {
      const next = deliveries[w++ % deliveries.length];
      if (!next) throw new Error("no delivery");
      return next;
    };

    // until no environment of the project is deploying (at most two minutes)
    const settled = async () => {
      const started = Date.now();
      while (Date.now() - started < 120_000) {
        const listed = await system
          .api<{ environments: Array<{ status: string }> }>("GET", "/v1/projects/load/environments")
          .catch(() => null); // a kept-alive connection the server closed meanwhile: ask again
        if (listed?.status === 200 && !listed.body.environments.some((e) => e.status === "deploying")) break;
        await sleep(250);
      }
      return (Date.now() - started) / 1000;
    };
    const rows: Array<Array<string | number>> = [];
    const cpuRows: Array<Array<string | number>> = [];
    const waits: string[] = [];
    // the system's workers (every app but the API), to pause for the runs of the API alone
    const workers = async () =>
      (await processTree(system.pid ?? 0))
        .filter((p) => /^(worker-|janitor)/.test(p.label))
        .map((p) => p.pid);
    const api = (await processTree(system.pid ?? 0)).find((p) => p.label === "api")?.pid;
    const cores = availableParallelism();
    const measure = async (
      label: string,
      work: () => Promise<Outcome>,
      options: { alone: boolean; api: boolean },
    ) => {
      waits.push(`${label.trim()}: ${(await settled()).toFixed(1)} s`);
      const paused = options.alone ? await workers() : [];
      for (const pid of paused) process.kill(pid, "SIGSTOP");
      try {
        const before = await cpuNow(options.api ? api : undefined);
        const r = await work();
        const after = await cpuNow(options.api ? api : undefined);
        const per = (part: keyof typeof before) => (after[part] - before[part]) / Math.max(1, r.accepted);
        rows.push([label, r.perSecond, r.p50, r.p99, r.accepted, r.other]);
        cpuRows.push([
          label,
          per("api"),
          per("postgres"),
          per("redis"),
          per("bench"),
          per("machine"),
          (after.machine - before.machine) / (SECONDS * 1000),
          (cores * 1000) / per("machine"),
        ]);
      } finally {
        for (const pid of paused) process.kill(pid, "SIGCONT");
      }
    };
    const run = (label: string, url: string, requests: () => Request, alone = false) =>
      measure(label, () => load(url, requests), { alone, api: url === system.apiUrl });
    await run("bare Node server, deploy requests", `http://127.0.0.1:${barePort}`, deploy);
    await run("edgeplane API: deploy requests (202 after commit)", system.apiUrl, deploy);
    await run("  the same, API alone (workers paused)", system.apiUrl, deploy, true);
    await run("bare Node server, webhook deliveries", `http://127.0.0.1:${barePort}`, webhook);
    await run("edgeplane API: signed webhook deliveries", system.apiUrl, webhook);
    await run("  the same, API alone (workers paused)", system.apiUrl, webhook, true);
    // last: its deployments are recorded and never enqueued (nothing waits on them to settle); its
    // pool outlives the measurement, so that its backends' CPU is still there to be read
    const writer = createDb(system.databaseUrl);
    try {
      await measure(
        "deploys' intent writes alone, from the bench process (no HTTP, auth, Redis)",
        () => intentWritesAlone(writer.db, image),
        { alone: true, api: false },
      );
    } finally {
      await writer.close();
    }
    console.log(
      `\nAPI load, ${CONNECTIONS} connections, ${SECONDS} s each (targets: 2,000/s deploys, 1,500/s webhooks)\n`,
    );
    console.log(table(["", "accepted/s", "p50 ms", "p99 ms", "accepted", "other"], rows));
    console.log(
      `\nCPU per accepted request, ms (the bench process holds the load generator, and the bare server and the intent writes of their rows); ${cores} cores\n`,
    );
    console.log(
      table(
        [
          "",
          "API",
          "Postgres",
          "Redis",
          "bench process",
          "whole machine",
          "cores busy",
          "/s the cores allow at this cost",
        ],
        cpuRows,
        2,
      ),
    );
    console.log(`\nwaited for the pipeline to settle before each run: ${waits.join("; ")}`);
  } finally {
    bare.close();
    await system.stop();
  }
}

await main();
