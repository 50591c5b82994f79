import type { EnvironmentRow, ProjectRow } from "@edgeplane/db";
import { isGone, runtimeRef } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import { inheritedSuffix, type JobContext, jobIds, QUEUES } from "@edgeplane/queue";
import { freeAddress, type ManagedContainer, waitHealthy } from "@edgeplane/runtime";
import { composeAppOf } from "../compose.ts";
import { environmentLock, type HeldLock } from "../lock.ts";
import { ensureEnvironmentNetwork, refillSparesWhenQuiet } from "../network.ts";
import { markPhase, noteDeployment, updateEnvironmentAt } from "../state.ts";
import { PermanentFailure, runStep } from "../step.ts";
import type { ReconcileDeps } from "./reconcile-deps.ts";
import { ensureServices, sameServices } from "./reconcile-services.ts";
import { ensureRuntimeImage } from "./runtime-images.ts";
import { putToSleep } from "./sleep.ts";

type Desired = EnvironmentRow & { desiredImage: string; desiredDigest: string };

/**
 * reconcile: make the runtime match the environment row, level-triggered and idempotent, in the
 * order of a zero-downtime deploy: validate what is wanted → ensure the current container (start it
 * and wait until healthy) → hand it to the gateway (ingress switches) → remove stale containers
 * (never the one the gateway still routes to; that one goes in the prune after the switch drained).
 * One reconcile or teardown at a time per environment (its lock); a newer generation supersedes.
 */
export type { ReconcileDeps };

export function reconcileEnvironment(deps: ReconcileDeps) {
  return (ctx: JobContext) =>
    runStep(
      deps,
      ctx,
      async ({ env, project }, lock) => {
        if (!wantsContainer(env)) return;
        if (env.status === "sleeping") {
          await putToSleep(deps, ctx, env, lock);
          return;
        }
        const containers = await deps.runtime.list({ environmentId: env.id });
        const app = composeAppOf(project);
        if (env.desiredServices && app) {
          const desired = { ...env, desiredServices: env.desiredServices };
          const result = await ensureServices(deps, ctx, { env: desired, project, app, containers, lock });
          if (!result) return; // superseded meanwhile
          const keep = new Set<string | null>([
            ...Object.values(result.observed).map((s) => s.containerId),
            ...Object.values(env.routedServices ?? {}).map((s) => s.containerId),
          ]);
          await removeStaleContainers(deps, ctx.log, containers, keep, lock);
          lock.assertHeld();
          // a service started anew has a container no route names yet: sameServices says so too
          await requestRouting(deps, ctx, env, sameServices(env.routedServices, result.observed));
          return;
        }
        const current = await ensureCurrentContainer(deps, ctx, { env, project, containers, lock });
        if (!current) return; // superseded while it started: removed again
        await removeStaleContainers(
          deps,
          ctx.log,
          containers,
          new Set([current.id, env.routedContainerId]),
          lock,
        );
        lock.assertHeld();
        // a task the swarm moved to another node is the same container at a new address
        const routesCurrent = env.routedContainerId === current.id && env.routedAddress === current.address;
        await requestRouting(deps, ctx, env, routesCurrent);
        await prepareNextStart(deps, ctx.log, env);
      },
      { lock: environmentLock(ctx.envelope.environmentId) },
    );
}

/**
 * Readies the environment's network for its next container, so that a redeploy starts without
 * Docker's network set-up on its critical path (a holder, on one host), then tops up the spare
 * networks a new environment may have taken: shortly after the route switch is asked for (made
 * during the switch, a holder's start cost its routing → first 200 ~80 ms), without waiting for it
 * and without the environment's lock (the runtime orders it with the environment's starts itself).
 * Only an optimisation: a failure (the environment torn down meanwhile, say) is logged, never the
 * job's.
 */
async function prepareNextStart(deps: ReconcileDeps, log: Logger, env: Desired): Promise<void> {
  const { runtime } = deps;
  if (!runtime.prepareStart || !deps.readyNextStart) return;
  const network = await ensureEnvironmentNetwork(deps, env); // made already: a check, under its lock
  setTimeout(() => {
    runtime
      .prepareStart?.({ projectId: env.projectId, environmentId: env.id, network })
      .catch((error: Error) => log.info({ err: error.message }, "network not readied for the next deploy"));
  }, PREPARE_AFTER_MS).unref();
  // a new environment may have taken a spare
  refillSparesWhenQuiet(deps, deps.spares ?? 0, REFILL_QUIET_MS, (error) =>
    log.info({ err: error.message }, "spare networks not made"),
  );
}

/** How long after the route switch is asked for the next start is readied: the switch goes first. */
const PREPARE_AFTER_MS = 400;
/** How long deploys pause before spare networks are made again (see refillSparesWhenQuiet). */
const REFILL_QUIET_MS = 2500;

/** Teardown belongs to the janitor, and nothing runs before staging pinned a digest. */
function wantsContainer(env: EnvironmentRow): env is Desired {
  return !isGone(env.status) && env.desiredImage !== null && env.desiredDigest !== null;
}

/**
 * The running container of the current generation the row observes, or a new one: started from the
 * staged image and healthy before it is recorded. A container that fails its health check is
 * removed and fails the deployment for good. Undefined when a newer intent arrived meanwhile.
 */
async function ensureCurrentContainer(
  deps: ReconcileDeps,
  ctx: JobContext,
  {
    env,
    project,
    containers,
    lock,
  }: { env: Desired; project: ProjectRow; containers: ManagedContainer[]; lock: HeldLock },
): Promise<{ id: string; address: string | null } | undefined> {
  const observed = containers.find(
    (c) => c.generation === env.generation && c.id === env.observedContainerId,
  );
  if (observed?.running && observed.address !== null) {
    if (observed.address === env.observedAddress) return observed;
    // the swarm moved its task to another node (a node was lost or drained): checked there, then
    // recorded, and the gateway follows it
    if (await healthyAt(observed, project, deps.healthTimeoutMs)) {
      ctx.log.info(
        { container: observed.id.slice(0, 12), node: observed.node },
        "container moved; routing to it",
      );
      return (await recordObserved(deps, ctx, observed, project)) ? observed : undefined;
    }
  }
  // stopped (by hand, or mid-restart, or asleep): started again, same id, if it gets healthy
  if (observed && !observed.running) {
    const resumed = await resumeHealthy(deps, ctx.log, observed, project);
    if (resumed) {
      if (resumed.address === env.observedAddress && resumed.publishedPort === observed.publishedPort)
        return resumed;
      return (await recordObserved(deps, ctx, resumed, project)) ? resumed : undefined;
    }
  }

  const { envelope, log } = ctx;
  lock.assertHeld(); // every runtime change below is made only while this reconcile holds the lock
  await markPhase(deps.db, envelope.deploymentId, "starting");
  for (const c of containers.filter((c) => c.generation === env.generation)) await deps.runtime.remove(c.id);
  lock.assertHeld();
  const image = runtimeRef(env.desiredImage, env.desiredDigest, deps.edge);
  // both made ahead by staging as a rule, so both are checks: side by side
  const [network] = await Promise.all([
    ensureEnvironmentNetwork(deps, env),
    ensureRuntimeImage(deps, image, env.desiredDigest), // staged, unless removed since
  ]);
  const address = freeAddress(network.subnet, new Set(containers.map((c) => c.address)));
  const started = Date.now();
  lock.assertHeld();
  const container = await deps.runtime.start({
    instance: deps.instance,
    projectId: project.id,
    projectName: project.name,
    environmentId: env.id,
    environmentName: env.name,
    deploymentId: envelope.deploymentId,
    generation: env.generation,
    image,
    containerPort: project.port,
    env: project.env,
    memoryBytes: project.memoryMb * 1024 * 1024,
    nanoCpus: project.cpuMillis * 1_000_000,
    network: { name: network.name, address },
  });
  // on one host the container's own address; on a Swarm, its node's, at the port published there
  const reachAt = container.address ?? address;
  const port = container.publishedPort ?? project.port;
  const health = await waitHealthy({
    host: reachAt,
    port,
    path: project.healthcheckPath,
    timeoutMs: deps.healthTimeoutMs,
    stillAlive: async () =>
      (await deps.runtime.list({ environmentId: env.id })).some((c) => c.id === container.id && c.running),
  });
  if (!health.healthy) {
    const seconds = Math.round(deps.healthTimeoutMs / 1000);
    const exitCode = health.exited ? await deps.runtime.exitCode(container.id) : null;
    const logs = await deps.runtime.logsTail(container.id, 20);
    await deps.runtime.remove(container.id);
    // the container's output and addresses stay in the authenticated API (the deployment's events);
    // the error, which the public status page shows too, says only what kind of failure it was
    await noteDeployment(
      deps.db,
      envelope.deploymentId,
      `health check: ${health.lastError}${logs ? `; last output of the container: ${logs.trim().slice(-1000)}` : ""}`,
    );
    throw new PermanentFailure(healthFailure(seconds, health, exitCode, project.healthcheckPath));
  }
  if (lock.signal.aborted) {
    await deps.runtime.remove(container.id); // started by a holder that lost its lock: not ours to keep
    lock.assertHeld();
  }
  log.info(
    {
      container: container.id.slice(0, 12),
      address: reachAt,
      port,
      node: container.node,
      ms: Date.now() - started,
    },
    "container healthy",
  );
  const running = { ...container, address: reachAt };
  if (!(await recordObserved(deps, ctx, running, project))) {
    await deps.runtime.remove(container.id);
    return undefined;
  }
  return running;
}

/** Records the container as the environment's current one, where the gateway reaches it; false if superseded. */
function recordObserved(
  deps: ReconcileDeps,
  { envelope }: JobContext,
  container: Pick<ManagedContainer, "id" | "address" | "publishedPort" | "node">,
  project: ProjectRow,
): Promise<boolean> {
  return updateEnvironmentAt(deps.db, envelope, {
    observedContainerId: container.id,
    observedAddress: container.address,
    observedPort: container.publishedPort ?? project.port,
    observedNode: container.node,
  });
}

/** Whether the container passes the project's health check where the gateway reaches it. */
async function healthyAt(
  container: Pick<ManagedContainer, "address" | "publishedPort">,
  project: ProjectRow,
  timeoutMs: number,
): Promise<boolean> {
  if (!container.address) return false;
  const health = await waitHealthy({
    host: container.address,
    port: container.publishedPort ?? project.port,
    path: project.healthcheckPath,
    timeoutMs,
  });
  return health.healthy;
}

/** What kind of failure a health check ended in, in words fit for a public page. */
function healthFailure(
  seconds: number,
  health: { exited?: boolean; lastStatus?: number },
  exitCode: number | null,
  path: string,
): string {
  if (health.exited) {
    return `the container exited before passing its health check${exitCode === null ? "" : `, exit code ${exitCode}`}`;
  }
  if (health.lastStatus !== undefined) {
    return `the container did not become healthy within ${seconds}s: its health check ${path} answered ${health.lastStatus}`;
  }
  return `the container did not become healthy within ${seconds}s: nothing answered its health check ${path}`;
}

/**
 * Starts a stopped current container again and waits for its health check: the container as it runs
 * now (a Swarm may have placed its task on another node), or undefined if it does not pass.
 */
async function resumeHealthy(
  deps: ReconcileDeps,
  log: Logger,
  container: ManagedContainer,
  project: ProjectRow,
): Promise<ManagedContainer | undefined> {
  const resumed = await deps.runtime.resume(container.id).then(
    () => true,
    (error: Error) => {
      log.warn(
        { container: container.id.slice(0, 12), err: error.message },
        "could not start the container again",
      );
      return false;
    },
  );
  if (!resumed) return undefined;
  const now = (await deps.runtime.list({ environmentId: container.environmentId })).find(
    (c) => c.id === container.id,
  );
  if (!now || !(await healthyAt(now, project, deps.healthTimeoutMs))) return undefined;
  log.info({ container: container.id.slice(0, 12) }, "stopped container started again");
  return now;
}

/** Removes every container of the environment but the ones to keep. */
async function removeStaleContainers(
  deps: ReconcileDeps,
  log: Logger,
  containers: ManagedContainer[],
  keep: ReadonlySet<string | null>,
  lock: HeldLock,
): Promise<void> {
  for (const c of containers) {
    if (keep.has(c.id)) continue;
    lock.assertHeld();
    await deps.runtime.remove(c.id);
    log.info({ container: c.id.slice(0, 12), generation: c.generation }, "removed old container");
  }
}

/** Asks ingress to switch the gateway to the current containers, unless it already routes to them. */
async function requestRouting(
  deps: ReconcileDeps,
  { envelope, job }: JobContext,
  env: EnvironmentRow,
  routesCurrent: boolean,
): Promise<void> {
  if (routesCurrent && env.status === "ready") return;
  await markPhase(deps.db, envelope.deploymentId, "routing");
  // a resync's reconcile (say, one that replaced a stopped container) routes with new work
  const jobId = `${jobIds.ingress(env.id, env.generation)}${inheritedSuffix(job.id)}`;
  await deps.producer.enqueue(QUEUES.ingress, envelope, jobId);
}
