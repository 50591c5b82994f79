/**
 * Deploy latency benchmark: how much time does the control plane add on top of starting the same
 * container by hand? In one run, against one `edgeplane up`:
 *   - N deploys of an image Docker already has, each to a fresh environment (so each starts a
 *     container): POST → `ready`, POST → first 200 through the gateway, and server-side phases;
 *     then two redeploys of each: one right after it is ready, and one 2 s after that (as a pull
 *     request's next commit comes, once the environment has readied its next start);
 *   - N bare `docker run`s of the same image (create + start, port published on loopback) → first
 *     200 on the published port, and N more on a user-defined network (as each environment has
 *     one), reached at the container's address: Docker's own price for that isolation;
 * the two alternate so machine noise hits both alike. Then the RSS of every process of the system.
 * Prints tables, asserts nothing. BENCH_DEPLOYS sets N (default 20); BENCH_POLL_MS the client's
 * polling interval (default 10): the polling itself loads the machine, so a larger interval shows
 * how much of the result is the observer's own load (at the price of coarser client-side times).
 */

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { docker, publishTestImage } from "../test/support/images.ts";
import { TestSystem } from "../test/support/system.ts";
import { alternate, bareRun, dockerTime, fresh, iso, POLL_MS, pollUntil } from "./support/probe.ts";
import { processTree, rssKiB } from "./support/procs.ts";
import { quiet } from "./support/quiet.ts";
import { type DeploymentView, percentile, statsRow, table } from "./support/stats.ts";

const N = Math.max(1, Number(process.env.BENCH_DEPLOYS ?? 20) || 20);
// the targets: POST → first 200 within 1.15× the bare run at p50, 1.3× at p95
const TARGET_P50 = 1.15;
const TARGET_P95 = 1.3;
const PROJECT = "bench";
const DOMAIN = "bench.test";
const CONTAINER_PORT = 8080;
const HEALTH_PATH = "/healthz";
/** EDGEPLANE_NETWORK_HOLDERS for the run (BENCH_HOLDERS=off: without them). */
const HOLDERS = process.env.BENCH_HOLDERS === "off" ? "off" : "on";
/** How long a settled environment's redeploy comes after the last deploy was ready. */
const SETTLE_MS = 2000;
/** EDGEPLANE_NETWORK_SPARES, as `up` defaults it. */
const SPARES = HOLDERS === "on" ? 2 : 0;

interface DeploySample {
  postToReady: number;
  postToFirst200: number;
  queuedToReady: number;
  phases: {
    postToQueued: number;
    queuedToStaging: number;
    stagingToStarting: number;
    startingToRouting: number;
    routingToReady: number;
    readyToFirst200: number;
  };
  docker: { startingToCreated: number; createdToStarted: number; startedToRouting: number } | null;
  healthyLogMs: number | null;
}

interface BareSample {
  runToFirst200: number;
  createdAfter: number;
  createdToStarted: number;
  startedToFirst200: number;
}

// ---- helpers -------------------------------------------------------------------------------------

// ---- one edgeplane deploy ------------------------------------------------------------------------

/**
 * One deploy, timed to the first 200 through the gateway; `served` (a redeploy): to the first 200
 * that the new image answers, the old one serving until then.
 */
async function deployOnce(
  system: TestSystem,
  image: string,
  environment: string,
  served?: string,
): Promise<DeploySample> {
  const hostname = `${environment}.${DOMAIN}`;
  const wallStart = Date.now();
  const t0 = performance.now();
  const res = await system.api("POST", "/v1/deployments", { body: { project: PROJECT, environment, image } });
  if (res.status !== 202) throw new Error(`deploy ${environment}: ${res.status} ${JSON.stringify(res.body)}`);
  const id: string = res.body.id;

  // While the deploy runs, the client polls only the gateway, as the bare baseline polls only its
  // port: polling the API too would load this 2-core machine during the measured window. The
  // moment of `ready` comes from the deployment's own timestamp, read afterwards.
  const stop = { aborted: false };
  let first200At: number;
  try {
    first200At = await pollUntil(
      async () => {
        const reply = await system.viaGateway(hostname, "/", fresh).catch(() => null);
        return reply?.status === 200 && (served === undefined || reply.text === served)
          ? performance.now()
          : undefined;
      },
      `${hostname} to answer 200 through the gateway`,
      { stop },
    );
  } finally {
    stop.aborted = true;
  }
  const { deployment } = await pollUntil(async () => {
    const d = (await system.api<DeploymentView>("GET", `/v1/deployments/${id}`)).body;
    if (d.status === "ready") return { deployment: d };
    if (d.status === "failed" || d.status === "superseded")
      throw new Error(`deploy ${environment} ${d.status}: ${d.error}`);
    return undefined;
  }, `${environment} to be ready`);
  const readyAt = t0 + (iso(deployment.phases.ready) - wallStart);

  // everything below is outside the measured window
  const p = deployment.phases;
  const queued = iso(p.queued);
  const staging = iso(p.staging);
  const starting = iso(p.starting);
  const routing = iso(p.routing);
  const readyTs = iso(p.ready);
  let dockerSplit: DeploySample["docker"] = null;
  const container = (await system.containers()).find((c) => c.Labels["edgeplane.deployment"] === id);
  if (container) {
    const info = await docker.getContainer(container.Id).inspect();
    const created = dockerTime(info.Created);
    const started = dockerTime(info.State.StartedAt);
    dockerSplit = {
      startingToCreated: created - starting,
      createdToStarted: started - created,
      startedToRouting: routing - started,
    };
  }
  const logLine = system.logs.find(
    (l) => l.includes("container healthy") && l.includes(`deploymentId=${id}`),
  );
  const healthyLogMs = logLine ? Number(/\bms=(\d+)/.exec(logLine)?.[1]) : null;
  return {
    postToReady: readyAt - t0,
    postToFirst200: first200At - t0,
    queuedToReady: readyTs - queued,
    phases: {
      postToQueued: queued - wallStart,
      queuedToStaging: staging - queued,
      stagingToStarting: starting - staging,
      startingToRouting: routing - starting,
      routingToReady: readyTs - routing,
      readyToFirst200: wallStart + (first200At - t0) - readyTs,
    },
    docker: dockerSplit,
    healthyLogMs,
  };
}

async function destroy(system: TestSystem, environment: string): Promise<void> {
  const res = await system.api("DELETE", `/v1/projects/${PROJECT}/environments/${environment}`);
  if (res.status !== 202)
    throw new Error(`destroy ${environment}: ${res.status} ${JSON.stringify(res.body)}`);
  await system.waitForEnvironment(PROJECT, environment, (e) => e.status === "destroyed");
}

// ---- one bare docker run -------------------------------------------------------------------------

async function bareRunOnce(image: string, label: string, network?: string): Promise<BareSample> {
  const run = await bareRun(docker, image, {
    label,
    containerPort: CONTAINER_PORT,
    healthPath: HEALTH_PATH,
    ...(network ? { network } : {}),
  });
  return {
    runToFirst200: run.first200,
    createdAfter: run.created - run.posted,
    createdToStarted: run.started - run.created,
    startedToFirst200: run.first200At - run.started,
  };
}

/** Where a deploy's time goes, from the deployment's own timestamps and Docker's. */
function phaseTable(what: string, samples: DeploySample[]): string {
  const ph = (f: (p: DeploySample["phases"]) => number) => samples.map((d) => f(d.phases));
  type DockerSplit = NonNullable<DeploySample["docker"]>;
  const dk = (f: (d: DockerSplit) => number) => samples.flatMap((d) => (d.docker ? [f(d.docker)] : []));
  const rows: Array<[string, number[]]> = [
    ["POST → queued (row written)", ph((p) => p.postToQueued)],
    ["queued → staging", ph((p) => p.queuedToStaging)],
    ["staging → starting", ph((p) => p.stagingToStarting)],
    ["starting → routing", ph((p) => p.startingToRouting)],
    ["  starting → container created", dk((d) => d.startingToCreated)],
    ["  created → started (docker)", dk((d) => d.createdToStarted)],
    ["  started → routing (health wait)", dk((d) => d.startedToRouting)],
    [
      "  reconcile 'container healthy' ms",
      samples.flatMap((d) => (d.healthyLogMs === null ? [] : [d.healthyLogMs])),
    ],
    ["routing → ready", ph((p) => p.routingToReady)],
    ["  routing → first 200 via gateway", ph((p) => p.routingToReady + p.readyToFirst200)],
    ["ready → first 200 (<0: served before ready)", ph((p) => p.readyToFirst200)],
  ];
  return table(
    [what, "p50", "p95", "min", "max"],
    rows.map(([label, values]) => statsRow(label, values)),
  );
}

// ---- the run -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const system = new TestSystem();
  const isolated = `edgeplane-bench-${system.id}`;
  const sql = postgres(system.databaseUrl, { max: 1, onnotice: () => {} });
  const began = Date.now();
  try {
    const tag = await publishTestImage(`bench/web-${system.id}`, "v1", { message: "bench" });
    const next = await publishTestImage(`bench/web-${system.id}`, "v2", { message: "bench v2" });
    await system.start({ EDGEPLANE_NETWORK_HOLDERS: HOLDERS });
    const project = await system.api("POST", "/v1/projects", {
      body: { name: PROJECT, domain: DOMAIN, port: CONTAINER_PORT, healthcheckPath: HEALTH_PATH },
    });
    if (project.status !== 201)
      throw new Error(`create project: ${project.status} ${JSON.stringify(project.body)}`);

    // warm: the image is resolved and present in Docker, and every code path has run once
    process.stderr.write(`bench: warming up (system ${system.instance}, gateway :${system.gatewayPort})\n`);
    const warm = await system.api("POST", "/v1/deployments", {
      body: { project: PROJECT, environment: "warm", image: tag },
    });
    if (warm.status !== 202) throw new Error(`warm deploy: ${warm.status} ${JSON.stringify(warm.body)}`);
    const warmed = await system.waitForDeployment(warm.body.id);
    if (warmed.status !== "ready") throw new Error(`warm deploy ${warmed.status}: ${warmed.error}`);
    const pinned = `${tag.slice(0, tag.lastIndexOf(":"))}@${warmed.digest}`;
    const warmNext = await system.api("POST", "/v1/deployments", {
      body: { project: PROJECT, environment: "warm", image: next },
    });
    if ((await system.waitForDeployment(warmNext.body.id)).status !== "ready")
      throw new Error("warm redeploy");
    await destroy(system, "warm");
    // the same bare run on a user-defined bridge network, as each environment has its own: what
    // Docker itself charges for that isolation (its embedded DNS, the endpoint) is in this baseline
    await docker.createNetwork({ Name: isolated, Labels: { "edgeplane.bench": system.instance } });
    await bareRunOnce(pinned, system.instance);
    await bareRunOnce(pinned, system.instance, isolated);

    const deploys: DeploySample[] = [];
    const redeploys: DeploySample[] = [];
    const settledRedeploys: DeploySample[] = [];
    const bares: BareSample[] = [];
    const baresOnNetwork: BareSample[] = [];
    for (let i = 0; i < N; i++) {
      const environment = `b-${i}`;
      const runDeploy = async () => {
        await quiet(system, sql, SPARES);
        deploys.push(await deployOnce(system, tag, environment));
        redeploys.push(await deployOnce(system, next, environment, "bench v2\n"));
        // as a pull request's next commit comes: a while after the last deploy settled
        await sleep(SETTLE_MS);
        settledRedeploys.push(await deployOnce(system, tag, environment, "bench\n"));
        await destroy(system, environment);
      };
      const runBare = async () => {
        await quiet(system, sql, SPARES);
        bares.push(await bareRunOnce(pinned, system.instance));
        baresOnNetwork.push(await bareRunOnce(pinned, system.instance, isolated));
      };
      await alternate(i, runDeploy, runBare);
      process.stderr.write(`bench: ${i + 1}/${N}\r`);
    }
    process.stderr.write("\n");

    // ---- results ----
    const first200 = deploys.map((d) => d.postToFirst200);
    const redeployFirst200 = redeploys.map((d) => d.postToFirst200);
    const settledFirst200 = settledRedeploys.map((d) => d.postToFirst200);
    const bare = bares.map((b) => b.runToFirst200);
    console.log(
      `\nDeploy latency, warm image, ${N} deploys and ${N} bare runs, interleaved, client polls every ${POLL_MS} ms, network holders ${HOLDERS} (ms)\n`,
    );
    console.log(
      table(
        ["", "p50", "p95", "min", "max"],
        [
          statsRow(
            "edgeplane POST→ready",
            deploys.map((d) => d.postToReady),
          ),
          statsRow("edgeplane POST→first 200 via gateway", first200),
          statsRow("edgeplane redeploy right after → first 200 of the new image", redeployFirst200),
          statsRow(
            `edgeplane redeploy ${SETTLE_MS / 1000} s after → first 200 of the new image`,
            settledFirst200,
          ),
          statsRow(
            "server-side queued→ready",
            deploys.map((d) => d.queuedToReady),
          ),
          statsRow("bare docker run→first 200", bare),
          statsRow(
            "bare docker run on a network of its own→first 200",
            baresOnNetwork.map((b) => b.runToFirst200),
          ),
        ],
      ),
    );
    const ratios = (label: string, samples: number[]) => {
      const r50 = percentile(samples, 0.5) / percentile(bare, 0.5);
      const r95 = percentile(samples, 0.95) / percentile(bare, 0.95);
      console.log(`\n${label} / bare (run→first 200):`);
      console.log(
        `  p50 ratio ${r50.toFixed(2)}x (target ≤ ${TARGET_P50}x: ${r50 <= TARGET_P50 ? "met" : "NOT MET"})`,
      );
      console.log(
        `  p95 ratio ${r95.toFixed(2)}x (target ≤ ${TARGET_P95}x: ${r95 <= TARGET_P95 ? "met" : "NOT MET"})`,
      );
    };
    ratios("edgeplane, fresh environment (POST→first 200 via gateway)", first200);
    ratios(
      "edgeplane, redeploy right after the first deploy (POST→first 200 of the new image)",
      redeployFirst200,
    );
    ratios(
      `edgeplane, redeploy ${SETTLE_MS / 1000} s after the last one (POST→first 200 of the new image)`,
      settledFirst200,
    );
    const onNetwork = percentile(
      baresOnNetwork.map((b) => b.runToFirst200),
      0.5,
    );
    console.log(
      `\nDocker's own share: a bare run on a network of its own is ${(onNetwork / percentile(bare, 0.5)).toFixed(2)}x the bare run at p50;` +
        `\nagainst it, edgeplane is ${(percentile(first200, 0.5) / onNetwork).toFixed(2)}x (fresh) and ${(percentile(redeployFirst200, 0.5) / onNetwork).toFixed(2)}x (redeploy)`,
    );

    console.log(`\nWhere the time goes (ms; phases from the deployment's own timestamps)\n`);
    console.log(phaseTable("edgeplane, fresh environment", deploys));
    console.log("");
    console.log(phaseTable("edgeplane, redeploy right after", redeploys));
    console.log("");
    console.log(phaseTable(`edgeplane, redeploy ${SETTLE_MS / 1000} s after`, settledRedeploys));
    console.log("");
    console.log(
      table(
        ["bare docker run", "p50", "p95", "min", "max"],
        [
          statsRow(
            "run → container created",
            bares.map((b) => b.createdAfter),
          ),
          statsRow(
            "created → started (docker)",
            bares.map((b) => b.createdToStarted),
          ),
          statsRow(
            "started → first 200",
            bares.map((b) => b.startedToFirst200),
          ),
          statsRow(
            "on a network of its own: created → started",
            baresOnNetwork.map((b) => b.createdToStarted),
          ),
        ],
      ),
    );

    // ---- memory ----
    const root = system.pid;
    if (root === undefined) throw new Error("edgeplane up is not running");
    const procs = await processTree(root);
    const rows: Array<Array<string | number>> = [];
    let total = 0;
    for (const p of procs) {
      const kib = await rssKiB(p.pid);
      if (Number.isFinite(kib)) total += kib;
      rows.push([`${"  ".repeat(p.depth)}${p.label}`, String(p.pid), kib / 1024]);
    }
    rows.push(["total", "", total / 1024]);
    console.log(`\nRSS of the system's processes after the run (MiB; containers not included)\n`);
    console.log(table(["process", "pid", "RSS MiB"], rows));
    console.log(`\nbench took ${((Date.now() - began) / 1000).toFixed(1)}s`);
  } catch (error) {
    // the workers' side of the story; the API's request lines only drown it
    const lines = system.logs.filter((l) => !/\[api\].*\brequest\b/.test(l));
    console.error(`system log (last 80 lines, API request lines left out):\n${lines.slice(-80).join("\n")}`);
    throw error;
  } finally {
    await docker
      .getNetwork(isolated)
      .remove()
      .catch(() => {}); // not made, if the run failed before
    await sql.end();
    await system.stop();
    fresh.destroy();
  }
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}
