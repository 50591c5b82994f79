/**
 * Deploy latency on a Docker Swarm next to the single-host figure, in one run:
 *   1. a swarm of three nodes on this machine and an edgeplane on it (EDGEPLANE_RUNTIME=swarm, every
 *      node pulling through an edge registry on the swarm's network): N deploys, each to a fresh
 *      environment, POST → first 200 through the gateway, alternating with N bare swarm services of
 *      the same pinned image (`docker service create`, one replica, its port published in host mode)
 *      → first 200 on the node that runs the task; then M redeploys of one environment, the image
 *      alternating between two tags, POST → first 200 serving the new image's page;
 *   2. the swarm stopped, an edgeplane on the machine's dockerd: the same N fresh deploys alternating
 *      with bare `docker run`s, as bench/deploy.ts measures them.
 * Every image is on every node before the first sample: the figures are deploys of a warm image.
 * Fresh environments stay up until the end of their phase (the swarm and the host end with N idle
 * previews, as a busy machine has): on the swarm a teardown waits out its task's 10 s stop grace
 * period (the test image does not exit on SIGTERM), which would take the run past its time budget.
 * Prints one table of the results and one of where the time goes; asserts nothing.
 * BENCH_SWARM_DEPLOYS sets N (default 8); BENCH_POLL_MS the client's polling interval (default 10).
 * Sampling stops early once the run nears its time budget; a watchdog cleans up and exits past it.
 */

import { performance } from "node:perf_hooks";
import type Docker from "dockerode";
import { docker, follow, publishTestImage } from "../test/support/images.ts";
import { LocalRegistry } from "../test/support/registry.ts";
import { SwarmCluster } from "../test/support/swarm.ts";
import { TestSystem } from "../test/support/system.ts";
import {
  alternate,
  type BareRun,
  bareRun,
  dockerTime,
  fresh,
  httpGet,
  iso,
  POLL_MS,
  pollUntil,
} from "./support/probe.ts";
import { type DeploymentView, percentile, table } from "./support/stats.ts";

const N = Math.max(1, Number(process.env.BENCH_SWARM_DEPLOYS ?? 8) || 8);
const M = 5;
/** From the start of the run: no new swarm sample after this, no new single-host sample after the next. */
const SWARM_BUDGET_MS = 200_000;
const HOST_BUDGET_MS = 270_000;
/** Past this the watchdog removes everything and exits, whatever the run is waiting on. */
const HARD_LIMIT_MS = 420_000;
const PROJECT = "bench";
const DOMAIN = "bench.test";
const CONTAINER_PORT = 8080;
const HEALTH_PATH = "/healthz";
/** edgeplane's services publish in this range; the bare services above it, one port each. */
const SWARM_PORT_RANGE = "31000-31999";
const BARE_PORT_BASE = 32500;

/** One edgeplane deploy, on the wall clock (ms since the epoch). */
interface DeploySample {
  /** POST → first 200 (with the expected page, for a redeploy), from the monotonic clock. */
  first200: number;
  posted: number;
  first200At: number;
  phases: Record<"queued" | "staging" | "starting" | "routing" | "ready", number>;
  /** Its container (on a swarm: its task's container, on the node that runs it). */
  created: number;
  started: number;
}

/** One bare container or service, on the wall clock. */
type BareSample = BareRun;

interface SwarmNodeView {
  name: string;
  address: string;
}

// ---- helpers -------------------------------------------------------------------------------------

/** Runs `f` once; later calls get the same promise. */
function once(f: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => {
    running ??= f();
    return running;
  };
}

/** Runs every step, each whatever the others did; the first error is rethrown at the end. */
async function allSteps(steps: Array<() => Promise<unknown>>): Promise<void> {
  let first: unknown = null;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= error;
    }
  }
  if (first) throw first;
}

const stats = (values: number[]) => [
  percentile(values, 0.5),
  percentile(values, 0.95),
  Math.min(...values),
  Math.max(...values),
];
const ratio = (a: number[], b: number[], p: number) => `${(percentile(a, p) / percentile(b, p)).toFixed(2)}x`;

const runBegan = Date.now();
function log(message: string): void {
  process.stderr.write(`bench [${((Date.now() - runBegan) / 1000).toFixed(1)}s]: ${message}\n`);
}

// ---- edgeplane, on either runtime ----------------------------------------------------------------

/**
 * POST /v1/deployments, then the gateway polled alone (as the bare baselines poll only their port)
 * until it answers 200, with `page` when given. The deployment's phases are read afterwards.
 */
async function deployOnce(
  system: TestSystem,
  image: string,
  environment: string,
  page?: string,
): Promise<{
  id: string;
  first200: number;
  posted: number;
  first200At: number;
  phases: DeploySample["phases"];
}> {
  const hostname = `${environment}.${DOMAIN}`;
  const posted = Date.now();
  const t0 = performance.now();
  const res = await system.api("POST", "/v1/deployments", { body: { project: PROJECT, environment, image } });
  if (res.status !== 202) throw new Error(`deploy ${environment}: ${res.status} ${JSON.stringify(res.body)}`);
  const id: string = res.body.id;
  const at = await pollUntil(
    async () => {
      const r = await system.viaGateway(hostname, "/", fresh).catch(() => null);
      return r?.status === 200 && (page === undefined || r.text === page) ? performance.now() : undefined;
    },
    `${hostname} to answer 200${page === undefined ? "" : ` with ${JSON.stringify(page)}`}`,
  );
  const deployment = await waitReady(system, id, environment);
  const p = deployment.phases;
  return {
    id,
    first200: at - t0,
    posted,
    first200At: posted + (at - t0),
    phases: {
      queued: iso(p.queued),
      staging: iso(p.staging),
      starting: iso(p.starting),
      routing: iso(p.routing),
      ready: iso(p.ready),
    },
  };
}

async function waitReady(system: TestSystem, id: string, environment: string): Promise<DeploymentView> {
  return pollUntil(
    async () => {
      const d = (await system.api<DeploymentView>("GET", `/v1/deployments/${id}`)).body;
      if (d.status === "ready") return d;
      if (d.status === "failed" || d.status === "superseded")
        throw new Error(`deploy ${environment} ${d.status}: ${d.error}`);
      return undefined;
    },
    `${environment} to be ready`,
    { timeoutMs: 120_000, intervalMs: 100 },
  );
}

async function createProject(system: TestSystem): Promise<void> {
  const project = await system.api("POST", "/v1/projects", {
    body: {
      name: PROJECT,
      domain: DOMAIN,
      port: CONTAINER_PORT,
      healthcheckPath: HEALTH_PATH,
      maxEnvironments: N + 10,
    },
  });
  if (project.status !== 201)
    throw new Error(`create project: ${project.status} ${JSON.stringify(project.body)}`);
}

// ---- the swarm -----------------------------------------------------------------------------------

/** The swarm's nodes by id, as the manager lists them: where a task's host-mode port listens. */
async function swarmNodes(manager: Docker): Promise<Map<string, SwarmNodeView>> {
  const nodes = (await manager.listNodes()) as Array<{
    ID: string;
    Description?: { Hostname?: string };
    Status?: { Addr?: string };
    ManagerStatus?: { Addr?: string };
  }>;
  return new Map(
    nodes.map((n) => {
      // a manager may report 0.0.0.0 as its own address: its advertised one says where it is
      const status = n.Status?.Addr;
      const address =
        status && status !== "0.0.0.0" ? status : (n.ManagerStatus?.Addr ?? "").replace(/:\d+$/, "");
      return [n.ID, { name: n.Description?.Hostname ?? n.ID, address }];
    }),
  );
}

/**
 * The node a service's task was given, once the scheduler has given it one; with `running`, once
 * the task runs there, and a task the swarm rejects or that fails throws.
 */
async function taskNode(
  manager: Docker,
  nodes: Map<string, SwarmNodeView>,
  serviceId: string,
  options: { running?: boolean } = {},
): Promise<SwarmNodeView | undefined> {
  const tasks = (await manager.listTasks({ filters: { service: [serviceId] } })) as Array<{
    NodeID?: string;
    DesiredState?: string;
    Status?: { State?: string; Err?: string };
  }>;
  if (options.running) {
    const failed = tasks.find((t) => t.Status?.State === "rejected" || t.Status?.State === "failed");
    if (failed)
      throw new Error(
        `service ${serviceId.slice(0, 12)}: task ${failed.Status?.State}: ${failed.Status?.Err}`,
      );
  }
  const task = tasks.find((t) => t.DesiredState === "running" && t.NodeID);
  if (!task || (options.running && task.Status?.State !== "running")) return undefined;
  return nodes.get(task.NodeID ?? "");
}

/** When the container of a service's task was created and started, from the engine of its node. */
async function taskContainerTimes(
  cluster: SwarmCluster,
  node: SwarmNodeView,
  serviceId: string,
): Promise<{ created: number; started: number }> {
  const engine = cluster.docker(node.name);
  const [container] = await engine.listContainers({
    all: true,
    filters: { label: [`com.docker.swarm.service.id=${serviceId}`] },
  });
  if (!container) return { created: Number.NaN, started: Number.NaN };
  const info = await engine.getContainer(container.Id).inspect();
  return { created: dockerTime(info.Created), started: dockerTime(info.State.StartedAt) };
}

/** The service edgeplane runs for a deployment. */
async function deploymentService(manager: Docker, system: TestSystem, deploymentId: string) {
  const [service] = await manager.listServices({
    filters: { label: [`edgeplane.instance=${system.instance}`, `edgeplane.deployment=${deploymentId}`] },
  });
  if (!service) throw new Error(`no service for deployment ${deploymentId}`);
  return service;
}

/** A deploy on the swarm, then when its task's container was created and started. */
async function swarmDeployOnce(
  cluster: SwarmCluster,
  nodes: Map<string, SwarmNodeView>,
  system: TestSystem,
  image: string,
  environment: string,
  page?: string,
): Promise<DeploySample> {
  const manager = cluster.docker();
  const sample = await deployOnce(system, image, environment, page);
  const service = await deploymentService(manager, system, sample.id);
  const node = await taskNode(manager, nodes, service.ID);
  const times = node
    ? await taskContainerTimes(cluster, node, service.ID)
    : { created: Number.NaN, started: Number.NaN };
  return { ...sample, ...times };
}

/**
 * `docker service create --replicas 1 --endpoint-mode dnsrr --publish mode=host,target=8080,published=<port>
 * -e PORT=8080 <image>` on the manager → first 200 on the node its task runs on; then removed.
 *
 * The port is probed once the swarm reports the task running, as `docker service create` waits
 * for it and as edgeplane routes only to a running task. Probed earlier, from the moment the task
 * has a node, the figure is about 0.6 s worse and says nothing of the swarm: a SYN sent after the
 * port's DNAT rule exists but before the container's interface is up sends the node's kernel to
 * resolve the container's address (ARP) and nobody answers; it asks again only after a second, and
 * until then every connection to that address waits.
 */
async function bareServiceOnce(
  cluster: SwarmCluster,
  nodes: Map<string, SwarmNodeView>,
  image: string,
  port: number,
  label: string,
): Promise<BareSample> {
  const manager = cluster.docker();
  const posted = Date.now();
  const t0 = performance.now();
  const service = await manager.createService({
    Name: `bench-bare-${label}-${port}`,
    Labels: { "edgeplane.bench": label },
    TaskTemplate: {
      // a short stop grace period only shortens its removal, after the sample
      ContainerSpec: { Image: image, Env: [`PORT=${CONTAINER_PORT}`], StopGracePeriod: 1_000_000_000 },
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: {
      Mode: "dnsrr",
      Ports: [{ Protocol: "tcp", TargetPort: CONTAINER_PORT, PublishedPort: port, PublishMode: "host" }],
    },
  } as Docker.CreateServiceOptions);
  const id = (service as unknown as { id: string }).id;
  let node: SwarmNodeView | undefined;
  try {
    const where = await pollUntil(
      () => taskNode(manager, nodes, id, { running: true }),
      `bare service on ${port} to run`,
    );
    node = where;
    const at = await pollUntil(
      async () =>
        (await httpGet(where.address, port, HEALTH_PATH).catch(() => 0)) === 200
          ? performance.now()
          : undefined,
      `bare service on ${where.address}:${port} to answer 200`,
    );
    const times = await taskContainerTimes(cluster, where, id);
    return { first200: at - t0, posted, first200At: posted + (at - t0), ...times };
  } finally {
    await manager
      .getService(id)
      .remove()
      .catch(() => {});
    // its container gone from its node before the next sample starts
    if (node) {
      const engine = cluster.docker(node.name);
      await pollUntil(
        async () => {
          const left = await engine.listContainers({
            all: true,
            filters: { label: [`com.docker.swarm.service.id=${id}`] },
          });
          return left.length === 0 ? true : undefined;
        },
        `bare service ${id.slice(0, 12)} to be gone`,
        { timeoutMs: 20_000, intervalMs: 100 },
      ).catch(() => {});
    }
  }
}

/** Waits (bounded) until an environment has one container left on the swarm's nodes. */
async function retired(cluster: SwarmCluster, system: TestSystem, environment: string): Promise<void> {
  const env = (await system.api("GET", `/v1/projects/${PROJECT}/environments/${environment}`)).body as {
    id: string;
  };
  const labels = [`edgeplane.instance=${system.instance}`, `edgeplane.environment=${env.id}`];
  await pollUntil(
    async () => {
      let count = 0;
      for (const node of cluster.nodes)
        count += (await cluster.docker(node.name).listContainers({ all: true, filters: { label: labels } }))
          .length;
      return count === 1 ? true : undefined;
    },
    `the previous generation of ${environment} to be gone`,
    { timeoutMs: 30_000, intervalMs: 100 },
  ).catch(() => log(`the previous generation of ${environment} is still there after 30 s`));
}

/** Every image on every node: pulled there (through the edge registry) where a deploy has not already. */
async function pullEverywhere(cluster: SwarmCluster, images: string[]): Promise<number> {
  let pulled = 0;
  for (const node of cluster.nodes) {
    const engine = cluster.docker(node.name);
    for (const image of images) {
      const present = await engine
        .getImage(image)
        .inspect()
        .then(
          () => true,
          () => false,
        );
      if (present) continue;
      await follow(await engine.pull(image));
      pulled++;
    }
  }
  return pulled;
}

interface SwarmResults {
  fresh: DeploySample[];
  bare: BareSample[];
  redeploy: DeploySample[];
  pulledByHand: number;
  /** Why edgeplane's jobs failed an attempt (and were retried) while the samples ran, by reason. */
  retries: Map<string, number>;
}

async function swarmPhase(began: number, cleanups: Array<() => Promise<void>>): Promise<SwarmResults> {
  let cluster: SwarmCluster | undefined;
  const primary = new LocalRegistry({ name: "bench-primary" });
  let edge: LocalRegistry | undefined;
  const system = new TestSystem();
  const stop = once(() =>
    allSteps([
      () => system.stop(),
      async () => edge?.destroy(),
      () => primary.destroy(),
      async () => cluster?.stop(),
    ]),
  );
  cleanups.push(stop);
  try {
    log("starting a swarm of 3 nodes");
    cluster = await SwarmCluster.start({ nodes: 3 });
    log(`swarm ready after ${(cluster.readyAfterMs / 1000).toFixed(1)} s`);
    await primary.start();
    // the registry every node pulls from: on the swarm's network, a pull-through cache of the primary
    edge = new LocalRegistry({ name: "bench-edge", remote: primary, address: cluster.hostAddress });
    await edge.start();
    const repo = `bench/swarm-${system.id}`;
    const tags = { v1: "", v2: "" };
    for (const tag of ["v1", "v2"] as const)
      tags[tag] = await publishTestImage(repo, tag, {
        registry: primary.host,
        message: `swarm ${tag}`,
        removeLocal: true,
      });
    await system.start({
      EDGEPLANE_RUNTIME: "swarm",
      DOCKER_HOST: cluster.manager.dockerHost,
      EDGEPLANE_EDGE_REGISTRY: edge.host,
      EDGEPLANE_EDGE_UPSTREAM: primary.host,
      EDGEPLANE_INSECURE_REGISTRIES: edge.host,
      EDGEPLANE_SWARM_PORT_RANGE: SWARM_PORT_RANGE,
    });
    await createProject(system);
    const manager = cluster.docker();
    const nodes = await swarmNodes(manager);

    // warm: three environments at once (spread over the nodes, so each node pulls), a redeploy to
    // the second image, then whatever a node still lacks pulled there by hand; every code path has run
    log(`warming up (system ${system.instance}, gateway :${system.gatewayPort})`);
    const warmNames = ["warm-1", "warm-2", "redeploy"];
    const warmIds = await Promise.all(
      warmNames.map(async (environment) => {
        const res = await system.api("POST", "/v1/deployments", {
          body: { project: PROJECT, environment, image: tags.v1 },
        });
        if (res.status !== 202) throw new Error(`warm deploy: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.id as string;
      }),
    );
    for (const [i, id] of warmIds.entries()) await waitReady(system, id, warmNames[i] ?? "");
    const pinnedImage = async (id: string) =>
      (
        (await deploymentService(manager, system, id)).Spec as {
          TaskTemplate?: { ContainerSpec?: { Image?: string } };
        }
      ).TaskTemplate?.ContainerSpec?.Image ?? "";
    const pinnedV1 = await pinnedImage(warmIds[2] ?? "");
    const second = await deployOnce(system, tags.v2, "redeploy", "swarm v2\n");
    const pinnedV2 = await pinnedImage(second.id);
    const pulledByHand = await pullEverywhere(cluster, [pinnedV1, pinnedV2]);
    await bareServiceOnce(cluster, nodes, pinnedV1, BARE_PORT_BASE - 1, system.instance);

    const logsFrom = system.logs.length;
    const fresh: DeploySample[] = [];
    const bare: BareSample[] = [];
    for (let i = 0; i < N; i++) {
      if (Date.now() - began > SWARM_BUDGET_MS) {
        log(`time budget reached: ${i} of ${N} swarm samples`);
        break;
      }
      const runDeploy = async () => {
        fresh.push(await swarmDeployOnce(cluster as SwarmCluster, nodes, system, tags.v1, `f-${i}`));
      };
      const runBare = async () => {
        bare.push(
          await bareServiceOnce(
            cluster as SwarmCluster,
            nodes,
            pinnedV1,
            BARE_PORT_BASE + i,
            system.instance,
          ),
        );
      };
      await alternate(i, runDeploy, runBare);
      log(`swarm ${i + 1}/${N}`);
    }

    // redeploys of one environment (now on v2): v1, v2, v1, … each until its own page is served
    const redeploy: DeploySample[] = [];
    for (let j = 0; j < M; j++) {
      if (Date.now() - began > SWARM_BUDGET_MS) {
        log(`time budget reached: ${j} of ${M} redeploys`);
        break;
      }
      const tag = j % 2 === 0 ? "v1" : "v2";
      redeploy.push(await swarmDeployOnce(cluster, nodes, system, tags[tag], "redeploy", `swarm ${tag}\n`));
      // The previous generation retired (its task's container gone from its node) before the next
      // redeploy: its removal holds the environment's reconcile, and when that task ran on the
      // manager the removal waits out the container's stop grace period (10 s; the test image
      // does not exit on SIGTERM). Back to back, a redeploy would measure that wait, not itself.
      await retired(cluster, system, "redeploy");
      log(`redeploy ${j + 1}/${M}`);
    }
    const retries = new Map<string, number>();
    for (const line of system.logs.slice(logsFrom)) {
      const reason = /\bjob failed\b.*\berr=(.*)$/.exec(line)?.[1];
      if (reason) retries.set(reason, (retries.get(reason) ?? 0) + 1);
    }
    return { fresh, bare, redeploy, pulledByHand, retries };
  } catch (error) {
    dumpLogs(system);
    throw error;
  } finally {
    log("stopping the swarm");
    await stop();
  }
}

// ---- one host ------------------------------------------------------------------------------------

/** A bare `docker run` of the image on this host (see bareRun). */
const bareRunOnce = (image: string, label: string): Promise<BareSample> =>
  bareRun(docker, image, { label, containerPort: CONTAINER_PORT, healthPath: HEALTH_PATH });

async function hostDeployOnce(system: TestSystem, image: string, environment: string): Promise<DeploySample> {
  const sample = await deployOnce(system, image, environment);
  const container = (await system.containers()).find((c) => c.Labels["edgeplane.deployment"] === sample.id);
  let times = { created: Number.NaN, started: Number.NaN };
  if (container) {
    const info = await docker.getContainer(container.Id).inspect();
    times = { created: dockerTime(info.Created), started: dockerTime(info.State.StartedAt) };
  }
  return { ...sample, ...times };
}

async function hostPhase(
  began: number,
  cleanups: Array<() => Promise<void>>,
): Promise<{ fresh: DeploySample[]; bare: BareSample[] }> {
  const system = new TestSystem();
  const stop = once(() => system.stop());
  cleanups.push(stop);
  try {
    const tag = await publishTestImage(`bench/swarm-host-${system.id}`, "v1", { message: "host v1" });
    log("starting edgeplane on the machine's dockerd");
    await system.start();
    await createProject(system);
    log(`warming up (system ${system.instance}, gateway :${system.gatewayPort})`);
    const warm = await deployOnce(system, tag, "warm");
    const digest = (await system.api<DeploymentView>("GET", `/v1/deployments/${warm.id}`)).body.digest;
    const pinned = `${tag.slice(0, tag.lastIndexOf(":"))}@${digest}`;
    await bareRunOnce(pinned, system.instance);

    const fresh: DeploySample[] = [];
    const bare: BareSample[] = [];
    for (let i = 0; i < N; i++) {
      if (Date.now() - began > HOST_BUDGET_MS) {
        log(`time budget reached: ${i} of ${N} single-host samples`);
        break;
      }
      const runDeploy = async () => {
        fresh.push(await hostDeployOnce(system, tag, `h-${i}`));
      };
      const runBare = async () => {
        bare.push(await bareRunOnce(pinned, system.instance));
      };
      await alternate(i, runDeploy, runBare);
      log(`single host ${i + 1}/${N}`);
    }
    return { fresh, bare };
  } catch (error) {
    dumpLogs(system);
    throw error;
  } finally {
    await stop();
  }
}

/** The workers' side of a failure; the API's request lines only drown it. */
function dumpLogs(system: TestSystem): void {
  const lines = system.logs.filter((l) => !/\[api\].*\brequest\b/.test(l));
  console.error(`system log (last 60 lines, API request lines left out):\n${lines.slice(-60).join("\n")}`);
}

// ---- the run -------------------------------------------------------------------------------------

function report(swarm: SwarmResults, host: { fresh: DeploySample[]; bare: BareSample[] }): void {
  const first200 = (samples: Array<{ first200: number }>) => samples.map((s) => s.first200);
  const swarmFresh = first200(swarm.fresh);
  const swarmBare = first200(swarm.bare);
  const hostFresh = first200(host.fresh);
  const hostBare = first200(host.bare);
  console.log(
    `\nDeploy latency, warm image, swarm of 3 nodes next to one host; fresh deploys and bare runs ` +
      `interleaved, client polls every ${POLL_MS} ms (ms)\n`,
  );
  console.log(
    table(
      ["", "n", "p50", "p95", "min", "max"],
      [
        ["swarm: edgeplane POST→first 200 (fresh env)", String(swarmFresh.length), ...stats(swarmFresh)],
        ["swarm: bare service create→first 200", String(swarmBare.length), ...stats(swarmBare)],
        [
          "swarm: ratio edgeplane / bare",
          "",
          ratio(swarmFresh, swarmBare, 0.5),
          ratio(swarmFresh, swarmBare, 0.95),
          "",
          "",
        ],
        [
          "swarm: redeploy POST→first 200 of new image",
          String(swarm.redeploy.length),
          ...stats(first200(swarm.redeploy)),
        ],
        ["single host: edgeplane POST→first 200 (fresh env)", String(hostFresh.length), ...stats(hostFresh)],
        ["single host: bare docker run→first 200", String(hostBare.length), ...stats(hostBare)],
        [
          "single host: ratio edgeplane / bare",
          "",
          ratio(hostFresh, hostBare, 0.5),
          ratio(hostFresh, hostBare, 0.95),
          "",
          "",
        ],
      ],
    ),
  );
  if (swarm.pulledByHand > 0)
    console.log(
      `\n(warm-up: ${swarm.pulledByHand} image pulls done by hand on nodes the warm-up deploys missed)`,
    );
  for (const [reason, count] of swarm.retries)
    console.log(`(swarm: a job attempt failed and was retried ${count}× during the samples: ${reason})`);

  // columns: swarm fresh, swarm redeploy, single-host fresh (bare rows: swarm and single-host bare)
  const pair = (values: number[]) => [percentile(values, 0.5), percentile(values, 0.95)];
  const none = [Number.NaN, Number.NaN];
  const deploys = (label: string, f: (s: DeploySample) => number) => [
    label,
    ...pair(swarm.fresh.map(f)),
    ...pair(swarm.redeploy.map(f)),
    ...pair(host.fresh.map(f)),
  ];
  const bares = (label: string, f: (s: BareSample) => number) => [
    label,
    ...pair(swarm.bare.map(f)),
    ...none,
    ...pair(host.bare.map(f)),
  ];
  console.log(`\nWhere the time goes (ms; the deployment's own timestamps and Docker's, one clock)\n`);
  console.log(
    table(
      ["", "swarm p50", "p95", "redeploy p50", "p95", "host p50", "p95"],
      [
        deploys("POST → queued", (s) => s.phases.queued - s.posted),
        deploys("queued → starting (stage)", (s) => s.phases.starting - s.phases.queued),
        deploys("starting → container created", (s) => s.created - s.phases.starting),
        deploys("container created → started", (s) => s.started - s.created),
        deploys("started → routing (health wait)", (s) => s.phases.routing - s.started),
        deploys("routing → ready", (s) => s.phases.ready - s.phases.routing),
        deploys("routing → first 200 via gateway", (s) => s.first200At - s.phases.routing),
        bares("bare: create → container created", (s) => s.created - s.posted),
        bares("bare: container created → started", (s) => s.started - s.created),
        bares("bare: started → first 200", (s) => s.first200At - s.started),
      ],
    ),
  );
}

async function main(): Promise<void> {
  const began = Date.now();
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = once(async () => {
    await allSteps(cleanups.toReversed()).catch((error) => console.error("cleanup:", error));
    fresh.destroy();
  });
  const abort = (reason: string, code: number) => {
    log(`${reason}: cleaning up`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => abort("interrupted", 130));
  process.once("SIGTERM", () => abort("terminated", 143));
  setTimeout(() => abort(`over ${HARD_LIMIT_MS / 1000} s`, 1), HARD_LIMIT_MS).unref();
  try {
    const swarm = await swarmPhase(began, cleanups);
    const host = await hostPhase(began, cleanups);
    report(swarm, host);
    console.log(`\nbench took ${((Date.now() - began) / 1000).toFixed(1)}s`);
  } finally {
    await cleanup();
  }
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}
