import { createHash } from "node:crypto";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type ComposeApp, interpolate, type ServiceSpec, startOrder, urlVariable } from "@edgeplane/compose";
import { and, type Db, type EnvironmentRow, environments, eq, type ProjectRow } from "@edgeplane/db";
import {
  type DesiredServices,
  environmentUrl,
  type ObservedService,
  type ObservedServices,
  runtimeRef,
  serviceHostname,
} from "@edgeplane/domain";
import type { JobContext } from "@edgeplane/queue";
import { freeAddress, type ManagedContainer, volumeNameFor, waitHealthy } from "@edgeplane/runtime";
import { hasTls } from "@edgeplane/tls";
import { primaryServiceOf } from "../compose.ts";
import type { HeldLock } from "../lock.ts";
import { ensureEnvironmentNetwork } from "../network.ts";
import { markPhase, noteDeployment, updateEnvironmentAt } from "../state.ts";
import { PermanentFailure } from "../step.ts";
import type { ReconcileDeps } from "./reconcile-deps.ts";
import { ensureRuntimeImage } from "./runtime-images.ts";

type Target = EnvironmentRow & { desiredServices: DesiredServices; desiredDigest: string };

/** How long a one-shot (migrations, seeds) may run before the deployment fails. */
const ONE_SHOT_LIMIT_FACTOR = 2;

/**
 * The services of a compose environment, brought to what is wanted level by level (a service starts
 * once what it depends on is started, healthy or completed, as its `depends_on` says): a service
 * whose configuration (image digest, command, values, mounts, limits) is unchanged keeps its
 * container; a changed stateless one gets a new container beside the old (the gateway switches,
 * then the old one goes); one with a volume is stopped, then started (never two on one volume);
 * one-shots run to completion every deploy. Returns the services observed, or undefined when a
 * newer intent arrived meanwhile.
 */
export async function ensureServices(
  deps: ReconcileDeps,
  ctx: JobContext,
  {
    env,
    project,
    app,
    containers,
    lock,
  }: {
    env: Target;
    project: ProjectRow;
    app: ComposeApp;
    containers: ManagedContainer[];
    lock: HeldLock;
  },
): Promise<{ observed: ObservedServices; changed: boolean } | undefined> {
  const { envelope, log } = ctx;
  const primary = primaryServiceOf(project, app);
  const network = await ensureEnvironmentNetwork(deps, env);
  const taken = new Set(containers.map((c) => c.address));
  const vars = serviceVariables(deps, env, project, app, primary);
  const plans = app.services.map((s) => plan(deps, env, project, s, vars, primary));
  const byName = new Map(plans.map((p) => [p.spec.name, p]));
  const unchanged = plans.every((p) => {
    const kept = keptContainer(containers, p);
    return kept !== undefined && (p.spec.oneShot ? kept.generation === env.generation : kept.running);
  });
  if (!unchanged) {
    await markPhase(deps.db, envelope.deploymentId, "starting");
    lock.assertHeld();
    await ensureVolumes(deps, ctx, { env, project, app, lock });
  }
  const observed: ObservedServices = {};
  let changed = false;
  for (const level of startOrder(app)) {
    const results = await Promise.all(
      level.map((name) => {
        const p = byName.get(name);
        if (!p) throw new Error(`service ${name} is not planned`);
        // an address is taken before anything is awaited: services of a level start side by side
        const address = freeAddress(network.subnet, taken);
        taken.add(address);
        return ensureService(deps, ctx, {
          env,
          project,
          plan: p,
          containers,
          network: network.name,
          address,
          lock,
        });
      }),
    );
    for (const r of results) {
      observed[r.service] = r.observed;
      changed ||= r.started;
    }
  }
  lock.assertHeld();
  const primaryObserved = primary ? observed[primary] : undefined;
  const recorded = await updateEnvironmentAt(deps.db, envelope, {
    observedServices: observed,
    observedContainerId: primaryObserved?.containerId ?? null,
    observedAddress: primaryObserved?.address ?? null,
    observedPort: primaryObserved?.port ?? null,
    observedNode: primaryObserved?.node ?? null,
  });
  if (!recorded) return undefined;
  if (changed) log.info({ services: Object.keys(observed).length }, "services ready");
  return { observed, changed };
}

interface ServicePlan {
  spec: ServiceSpec;
  image: string;
  digest: string;
  env: Record<string, string>;
  mounts: Array<{ volume: string; target: string; readOnly: boolean }>;
  hostname: string | null;
  /** Answers at `{env}.{domain}`, health-checked on the project's path. */
  primary: boolean;
  configHash: string;
}

/** EDGEPLANE_ENVIRONMENT, EDGEPLANE_URL (the primary's) and EDGEPLANE_URL_<SERVICE> per routed service. */
function serviceVariables(
  deps: ReconcileDeps,
  env: EnvironmentRow,
  project: ProjectRow,
  app: ComposeApp,
  primary: string | null,
): Record<string, string> {
  const tls = hasTls(project.tls);
  const url = (service: string) =>
    environmentUrl(serviceHostname(service, env.name, project.domain, primary), tls, deps.urls);
  const vars: Record<string, string> = { EDGEPLANE_ENVIRONMENT: env.name };
  if (primary) vars.EDGEPLANE_URL = url(primary);
  for (const s of app.services) {
    if (s.port !== null) vars[urlVariable(s.name)] = url(s.name);
  }
  return vars;
}

function plan(
  deps: ReconcileDeps,
  env: Target,
  project: ProjectRow,
  spec: ServiceSpec,
  vars: Record<string, string>,
  primary: string | null,
): ServicePlan {
  const desired = env.desiredServices[spec.name];
  if (!desired?.digest) throw new Error(`service ${spec.name} has no staged digest`);
  const image = runtimeRef(desired.image, desired.digest, deps.edge);
  // the file's values (edgeplane's variables substituted), then the project's, then this deploy's;
  // edgeplane's own variables last, so none of them can be set to something else
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.environment)) values[key] = interpolate(value, vars);
  Object.assign(values, project.env, desired.env, vars);
  const mounts = spec.volumes.map((m) => ({
    volume: volumeNameFor(deps.instance, env.id, m.volume),
    target: m.target,
    readOnly: m.readOnly,
  }));
  const hostname = spec.port === null ? null : serviceHostname(spec.name, env.name, project.domain, primary);
  const configHash = createHash("sha256")
    .update(
      JSON.stringify([
        image,
        spec.command,
        spec.entrypoint,
        Object.entries(values).sort(),
        spec.port,
        spec.healthcheck,
        mounts,
        spec.user,
        spec.workingDir,
        spec.limits,
        project.memoryMb,
        project.cpuMillis,
      ]),
    )
    .digest("hex")
    .slice(0, 32);
  return {
    spec,
    image,
    digest: desired.digest,
    env: values,
    mounts,
    hostname,
    primary: spec.name === primary,
    configHash,
  };
}

/** The container of this service that runs exactly this configuration, if any. */
function keptContainer(containers: ManagedContainer[], p: ServicePlan): ManagedContainer | undefined {
  return containers.find((c) => c.service === p.spec.name && c.configHash === p.configHash);
}

async function ensureService(
  deps: ReconcileDeps,
  ctx: JobContext,
  input: {
    env: Target;
    project: ProjectRow;
    plan: ServicePlan;
    containers: ManagedContainer[];
    network: string;
    address: string;
    lock: HeldLock;
  },
): Promise<{ service: string; observed: ObservedService; started: boolean }> {
  const { env, project, plan: p, containers, lock } = input;
  const { envelope, log } = ctx;
  const name = p.spec.name;
  // on a Swarm, the node its task runs on, at the port published there
  const observedOf = (
    c: Pick<ManagedContainer, "id" | "address" | "publishedPort" | "node">,
  ): ObservedService => ({
    containerId: c.id,
    address: c.address ?? input.address,
    node: c.node,
    port: c.publishedPort ?? p.spec.port,
    configHash: p.configHash,
    hostname: p.hostname,
    oneShot: p.spec.oneShot,
  });
  const kept = keptContainer(containers, p);
  if (p.spec.oneShot) {
    // a one-shot runs once per deploy: kept only if it already completed for this generation
    if (kept && kept.generation === env.generation && !kept.running) {
      const code = await deps.runtime.exitCode(kept.id);
      if (code === 0) return { service: name, observed: observedOf(kept), started: false };
    }
  } else if (kept?.running) {
    if (await ready(deps, p, kept, project, 5000))
      return { service: name, observed: observedOf(kept), started: false };
  } else if (kept) {
    // stopped (by hand, or mid-restart): started again where it was, if it gets ready
    const resumed = await deps.runtime.resume(kept.id).then(
      () => true,
      () => false,
    );
    if (resumed && (await ready(deps, p, kept, project, deps.healthTimeoutMs))) {
      log.info({ service: name }, "stopped service container started again");
      return { service: name, observed: observedOf(kept), started: false };
    }
  }

  const others = containers.filter((c) => c.service === name && c.id !== kept?.id);
  lock.assertHeld();
  // never two containers on one volume, and a one-shot's earlier runs are done with
  if (p.mounts.length > 0 || p.spec.oneShot) {
    if (p.mounts.length > 0 && others.some((c) => c.running))
      await noteDeployment(
        deps.db,
        envelope.deploymentId,
        `service ${name}: stopping the old container before starting the new one (it has a volume)`,
      );
    for (const c of [...others, ...(kept ? [kept] : [])]) await deps.runtime.remove(c.id);
  } else if (kept) {
    await deps.runtime.remove(kept.id); // kept but not ready: replaced
  }
  await ensureRuntimeImage(deps, p.image, p.digest);
  lock.assertHeld();
  const started = Date.now();
  const container = await deps.runtime.start({
    instance: deps.instance,
    projectId: project.id,
    projectName: project.name,
    environmentId: env.id,
    environmentName: env.name,
    deploymentId: envelope.deploymentId,
    generation: env.generation,
    service: name,
    image: p.image,
    command: p.spec.command,
    entrypoint: p.spec.entrypoint,
    user: p.spec.user,
    workingDir: p.spec.workingDir,
    containerPort: p.spec.port,
    env: p.env,
    memoryBytes: (p.spec.limits.memoryMb ?? project.memoryMb) * 1024 * 1024,
    nanoCpus: (p.spec.limits.cpuMillis ?? project.cpuMillis) * 1_000_000,
    network: { name: input.network, address: input.address },
    aliases: [name],
    mounts: p.mounts,
    healthcheck: p.spec.healthcheck,
    oneShot: p.spec.oneShot,
    configHash: p.configHash,
  });
  if (p.spec.oneShot) {
    const code = await completion(deps, container.id, deps.healthTimeoutMs * ONE_SHOT_LIMIT_FACTOR);
    if (code !== 0) {
      const logs = await deps.runtime.logsTail(container.id, 20);
      await noteDeployment(
        deps.db,
        envelope.deploymentId,
        `service ${name}: ${logs ? `last output: ${logs.trim().slice(-1000)}` : "no output"}`,
      );
      throw new PermanentFailure(
        code === null
          ? `service ${name} did not complete within ${Math.round((deps.healthTimeoutMs * ONE_SHOT_LIMIT_FACTOR) / 1000)}s`
          : `service ${name} exited with code ${code}; the services that depend on it were not started`,
      );
    }
  } else if (!(await ready(deps, p, container, project, deps.healthTimeoutMs))) {
    const exitCode = await deps.runtime.exitCode(container.id);
    const logs = await deps.runtime.logsTail(container.id, 20);
    await deps.runtime.remove(container.id);
    await noteDeployment(
      deps.db,
      envelope.deploymentId,
      `service ${name}: ${logs ? `last output: ${logs.trim().slice(-1000)}` : "no output"}`,
    );
    throw new PermanentFailure(
      exitCode !== null
        ? `service ${name} exited before it was ready, exit code ${exitCode}`
        : `service ${name} did not become ready within ${Math.round(deps.healthTimeoutMs / 1000)}s`,
    );
  }
  if (lock.signal.aborted) {
    await deps.runtime.remove(container.id);
    lock.assertHeld();
  }
  log.info(
    { service: name, container: container.id.slice(0, 12), ms: Date.now() - started },
    "service started",
  );
  return { service: name, observed: observedOf(container), started: true };
}

/**
 * Ready as its dependents and the gateway need it: its own healthcheck healthy when it has one; else
 * the primary answering the project's health check path, any other service with a port accepting
 * connections on it, and one without a port running.
 */
async function ready(
  deps: ReconcileDeps,
  p: ServicePlan,
  container: Pick<ManagedContainer, "id" | "address" | "publishedPort">,
  project: ProjectRow,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const alive = async () => (await deps.runtime.exitCode(container.id)) === null;
  if (p.spec.healthcheck) {
    for (let wait = 100; Date.now() < deadline; wait = Math.min(wait * 2, 1000)) {
      const health = await deps.runtime.health(container.id);
      if (health === "healthy") return true;
      if (health === "unhealthy" || !(await alive())) return false;
      await sleep(wait);
    }
    return false;
  }
  const address = container.address;
  const port = p.spec.port === null ? null : (container.publishedPort ?? p.spec.port);
  if (port === null || !address) {
    await sleep(200);
    return alive();
  }
  if (p.primary) {
    const health = await waitHealthy({
      host: address,
      port,
      path: project.healthcheckPath,
      timeoutMs,
      stillAlive: alive,
    });
    return health.healthy;
  }
  for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 500)) {
    if (await accepts(address, port)) return true;
    if (!(await alive())) return false;
    await sleep(wait);
  }
  return false;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Waits for a one-shot to exit; its exit code, or null past the deadline. */
async function completion(deps: ReconcileDeps, id: string, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 1000)) {
    const code = await deps.runtime.exitCode(id);
    if (code !== null) return code;
    await sleep(wait);
  }
  return null;
}

/**
 * The environment's named volumes, created with it and kept across its deploys. A volume created now
 * whose compose entry says `x-edgeplane: {seedFrom: <environment>}` starts as a copy of that
 * environment's: its containers using the volume are paused for the copy (a crash-consistent
 * snapshot, which a database recovers from as after a power cut), then resumed.
 */
async function ensureVolumes(
  deps: ReconcileDeps,
  ctx: JobContext,
  { env, project, app, lock }: { env: Target; project: ProjectRow; app: ComposeApp; lock: HeldLock },
): Promise<void> {
  for (const volume of app.volumes) {
    lock.assertHeld();
    const { name, created } = await deps.runtime.ensureVolume({
      instance: deps.instance,
      projectId: project.id,
      environmentId: env.id,
      volume: volume.name,
    });
    if (!created || !volume.seedFrom || volume.seedFrom === env.name) continue;
    await seedVolume(deps, ctx, {
      env,
      project,
      app,
      volume: volume.name,
      from: volume.seedFrom,
      target: name,
    });
  }
}

async function seedVolume(
  deps: ReconcileDeps,
  ctx: JobContext,
  input: { env: Target; project: ProjectRow; app: ComposeApp; volume: string; from: string; target: string },
): Promise<void> {
  const { envelope, log } = ctx;
  const source = await environmentNamed(deps.db, input.project.id, input.from);
  const sourceVolume = source ? volumeNameFor(deps.instance, source.id, input.volume) : null;
  const present = source
    ? (await deps.runtime.listVolumes({ environmentId: source.id })).some((v) => v.name === sourceVolume)
    : false;
  if (!source || !sourceVolume || !present) {
    await noteDeployment(
      deps.db,
      envelope.deploymentId,
      `volume ${input.volume}: environment ${input.from} has no such volume to copy from; it starts empty`,
    );
    return;
  }
  // the copy runs in an image of this deploy that mounts the volume: it has a shell and cp
  const user = input.app.services.find((s) => s.volumes.some((m) => m.volume === input.volume));
  const desired = user ? input.env.desiredServices[user.name] : undefined;
  if (!desired?.digest) throw new Error(`no staged image mounts volume ${input.volume}`);
  const image = runtimeRef(desired.image, desired.digest, deps.edge);
  await ensureRuntimeImage(deps, image, desired.digest);
  const users = (await deps.runtime.list({ environmentId: source.id })).filter(
    (c) =>
      c.running &&
      input.app.services.some(
        (s) => s.name === c.service && s.volumes.some((m) => m.volume === input.volume),
      ),
  );
  const started = Date.now();
  for (const c of users) await deps.runtime.pause(c.id);
  let result: { exitCode: number; output: string };
  try {
    result = await deps.runtime.runOnce({
      instance: deps.instance,
      projectId: input.project.id,
      environmentId: input.env.id,
      readFromEnvironmentId: source.id,
      image,
      command: ["/bin/sh", "-c", "cp -a /from/. /to/"],
      user: "0",
      mounts: [
        { volume: sourceVolume, target: "/from", readOnly: true },
        { volume: input.target, target: "/to", readOnly: false },
      ],
      timeoutMs: deps.healthTimeoutMs * 5,
    });
  } catch (error) {
    // a half-made copy must not pass for a seeded volume on the retry
    await deps.runtime.removeVolume(input.target).catch(() => {});
    throw error;
  } finally {
    for (const c of users) await deps.runtime.unpause(c.id).catch(() => {});
  }
  if (result.exitCode !== 0) {
    await deps.runtime.removeVolume(input.target).catch(() => {});
    throw new PermanentFailure(
      `volume ${input.volume}: copying it from ${input.from} failed (exit code ${result.exitCode})`,
    );
  }
  await noteDeployment(deps.db, envelope.deploymentId, `volume ${input.volume}: copied from ${input.from}`);
  log.info({ volume: input.volume, from: input.from, ms: Date.now() - started }, "volume seeded");
}

async function environmentNamed(db: Db, projectId: string, name: string) {
  const [row] = await db
    .select({ id: environments.id, status: environments.status })
    .from(environments)
    .where(and(eq(environments.projectId, projectId), eq(environments.name, name)));
  return row && row.status !== "destroyed" ? row : undefined;
}

/** Whether the gateway routes every service to the container observed for it, where it is now. */
export function sameServices(routed: ObservedServices | null, observed: ObservedServices | null): boolean {
  const a = Object.entries(routed ?? {});
  const b = observed ?? {};
  return (
    a.length === Object.keys(b).length &&
    a.every(([name, s]) => b[name]?.containerId === s.containerId && b[name]?.address === s.address)
  );
}
