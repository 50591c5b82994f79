import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type Docker from "dockerode";
import { type DockerError, isNotFound } from "../docker/errors.ts";
import { KEPT_CAPABILITIES } from "../docker/hardening.ts";
import { chunksOf, demuxBuffer, demuxFrames } from "../docker/log-stream.ts";
import { DockerRuntime, dockerClient } from "../docker/runtime.ts";
import { startPlan } from "../docker/start-plan.ts";
import { LABELS, volumeLabelsFor, volumePrefixFor } from "../labels.ts";
import type {
  ContainerSpec,
  HealthStatus,
  LogOptions,
  ManagedContainer,
  ManagedNetwork,
  ManagedVolume,
  NetworkSpec,
  PortAllocator,
  RunOnceSpec,
  Runtime,
  VolumeSpec,
} from "../types.ts";

/** A Swarm service name is a DNS label. */
const SERVICE_NAME_MAX = 63;
/** Task states from which a task will still reach `running`. */
const PENDING_STATES = new Set([
  "new",
  "allocated",
  "pending",
  "assigned",
  "accepted",
  "preparing",
  "ready",
  "starting",
]);
/** Task states a task never leaves. */
const FINAL_STATES = new Set(["complete", "failed", "shutdown", "rejected", "orphaned", "remove"]);

export interface SwarmRuntimeOptions {
  /** Unset: the manager `DOCKER_HOST` names. */
  socketPath?: string | undefined;
  instance: string;
  timeoutMs?: number;
  /** Where each service's published host port comes from (Postgres, so no two services share one). */
  ports?: PortAllocator;
  /** How long `start` waits for the service's task to run on a node. */
  scheduleTimeoutMs?: number;
  /**
   * The share of each service's memory and CPU limits the scheduler reserves for it on its node, in
   * percent (default 25): what a node must have free to take the task, so previews cannot crowd out
   * what already runs there.
   */
  reservationPercent?: number;
}

/** What edgeplane reads of a Swarm task. */
interface SwarmTask {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  DesiredState?: string;
  Version?: { Index?: number };
  Status?: { State?: string; Err?: string; ContainerStatus?: { ExitCode?: number } };
}

interface NodeInfo {
  address: string;
  hostname: string;
  ready: boolean;
}

/**
 * Every environment service as a Docker Swarm service of one replica, talked to through a manager.
 *
 * - Networks: an overlay network per environment (isolation as on one host), created through the
 *   manager like a bridge network on one host.
 * - Reaching a task: not through Swarm's routing mesh or a service VIP (both need IPVS, which many
 *   hosts lack): each service publishes its port in `mode: host` on a port of its own (from the
 *   allocator, never shared), and the control plane reaches it at the address of the node its task
 *   runs on. Service-to-service names use `endpoint_mode: dnsrr` on the overlay network.
 * - Volumes: Docker's local volumes live on one node. They are created on the node this runtime talks
 *   to (the manager), and a service that mounts one is constrained to that node, so a stateful
 *   service always runs next to its data; stateless services spread over the swarm.
 * - Images: pinned by digest, pulled by each node from the edge registry when a task is scheduled.
 * - Limits: the container's limits, and a share of them reserved on its node (`reservationPercent`).
 */
export class SwarmRuntime implements Runtime {
  /** The manager's engine as a node: images, volumes and helper containers live there. */
  private readonly local: DockerRuntime;
  private client: Docker | undefined;
  private streamingClient: Docker | undefined;
  private managerNode: string | undefined;

  constructor(private readonly options: SwarmRuntimeOptions) {
    this.local = new DockerRuntime({
      socketPath: options.socketPath,
      instance: options.instance,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      networkDriver: "overlay",
    });
  }

  private get docker(): Docker {
    this.client ??= dockerClient(this.options.socketPath, this.options.timeoutMs ?? 60_000);
    return this.client;
  }

  private get streaming(): Docker {
    this.streamingClient ??= dockerClient(this.options.socketPath);
    return this.streamingClient;
  }

  private get ports(): PortAllocator {
    if (!this.options.ports) throw new Error("the Swarm runtime needs a port allocator to start services");
    return this.options.ports;
  }

  /** Answers, and is a manager of an active swarm. */
  async ping(): Promise<void> {
    await this.docker.ping();
    const info = (await this.docker.info()) as {
      Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
    };
    if (info.Swarm?.LocalNodeState !== "active" || !info.Swarm.ControlAvailable) {
      throw new Error("EDGEPLANE_RUNTIME=swarm: the Docker engine DOCKER_HOST names is not a Swarm manager");
    }
  }

  /**
   * Each node pulls the pinned digest from the edge registry itself when a task is scheduled there,
   * so no engine here can vouch for an image: staging always makes sure the edge has it, and a
   * "pull" has nothing to do.
   */
  async pull(): Promise<void> {}
  async hasImage(): Promise<boolean> {
    return false;
  }
  async imageId(image: string): Promise<string | null> {
    return this.local.imageId(image);
  }
  async imagesInUse(): Promise<Set<string>> {
    return this.local.imagesInUse();
  }
  async removeImage(image: string): Promise<"removed" | "absent" | "in-use"> {
    return this.local.removeImage(image);
  }

  async list(filter: { environmentId?: string } = {}): Promise<ManagedContainer[]> {
    const labels = [`${LABELS.managed}=true`, `${LABELS.instance}=${this.options.instance}`];
    if (filter.environmentId) labels.push(`${LABELS.environment}=${filter.environmentId}`);
    const services = await this.docker.listServices({ filters: { label: labels } });
    if (services.length === 0) return [];
    const [tasks, nodes] = await Promise.all([
      this.docker.listTasks({ filters: { service: services.map((s) => s.ID) } }),
      this.nodes(),
    ]);
    const byService = new Map<string, SwarmTask[]>();
    for (const t of tasks as SwarmTask[]) {
      const id = t.ServiceID ?? "";
      byService.set(id, [...(byService.get(id) ?? []), t]);
    }
    return services.map((s) => managedService(s, currentTask(byService.get(s.ID) ?? [], nodes), nodes));
  }

  /** Every node by id: its address, hostname and whether the manager sees it ready. */
  private async nodes(): Promise<Map<string, NodeInfo>> {
    const nodes = (await this.docker.listNodes()) as Array<{
      ID: string;
      Description?: { Hostname?: string };
      Status?: { State?: string; Addr?: string };
      ManagerStatus?: { Addr?: string };
    }>;
    return new Map(
      nodes.map((n) => {
        // a manager may report 0.0.0.0 as its own address: its advertised one says where it is
        const status = n.Status?.Addr;
        const address =
          status && status !== "0.0.0.0" ? status : (n.ManagerStatus?.Addr ?? "").replace(/:\d+$/, "");
        return [
          n.ID,
          { address, hostname: n.Description?.Hostname ?? n.ID, ready: n.Status?.State === "ready" },
        ];
      }),
    );
  }

  async ensureNetwork(spec: NetworkSpec): Promise<ManagedNetwork> {
    return this.local.ensureNetwork(spec);
  }

  async listNetworks(): Promise<ManagedNetwork[]> {
    return this.local.listNetworks();
  }

  /** Removes the overlay network once the tasks of removed services have let go of it (bounded). */
  async removeNetwork(name: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.local.removeNetwork(name);
        return;
      } catch (error) {
        const inUse = /active endpoints|in use/i.test((error as DockerError).message ?? "");
        if (!inUse || attempt >= 60) throw error;
        await sleep(250);
      }
    }
  }

  async start(spec: ContainerSpec): Promise<ManagedContainer> {
    const plan = startPlan(this.options.instance, spec);
    const { labels, mounts, healthcheck, aliases, env } = plan;
    const name = serviceName(plan.name);
    await this.removeByName(name);
    const port = spec.containerPort;
    const published = port === null ? null : await this.ports.allocate(name);
    const memory = spec.memoryBytes ?? 512 * 1024 * 1024;
    const cpus = spec.nanoCpus ?? 1_000_000_000;
    const reserved = (value: number) => Math.floor((value * (this.options.reservationPercent ?? 25)) / 100);
    // a service with a volume runs where its volumes are: on the node this runtime talks to
    const constraints = mounts.length > 0 ? [`node.id==${await this.managerNodeId()}`] : [];
    const containerSpec = {
      Image: spec.image,
      Labels: labels,
      Env: env,
      ...(spec.entrypoint ? { Command: spec.entrypoint } : {}),
      ...(spec.command ? { Args: spec.command } : {}),
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workingDir ? { Dir: spec.workingDir } : {}),
      ...(healthcheck ? { HealthCheck: healthcheck } : {}),
      ...(mounts.length > 0
        ? {
            Mounts: mounts.map((m) => ({
              ...m,
              // created on first use with edgeplane's labels, if ensureVolume has not already
              VolumeOptions: { Labels: volumeLabelsOf(spec, m.Source ?? "") },
            })),
          }
        : {}),
      // the same sandbox as on one host: no privileges to gain, few capabilities
      Privileges: { NoNewPrivileges: true },
      CapabilityDrop: ["ALL"],
      CapabilityAdd: KEPT_CAPABILITIES,
      StopGracePeriod: 10_000_000_000,
    };
    try {
      const service = await this.docker.createService({
        Name: name,
        Labels: labels,
        TaskTemplate: {
          ContainerSpec: containerSpec as Docker.ContainerSpec,
          Resources: {
            Limits: {
              MemoryBytes: memory,
              NanoCPUs: cpus,
              Pids: 512,
            } as Docker.ResourceRequirements["Limits"],
            Reservations: { MemoryBytes: reserved(memory), NanoCPUs: reserved(cpus) },
          },
          RestartPolicy: spec.oneShot
            ? { Condition: "none" }
            : { Condition: "any", Delay: 1_000_000_000, Window: 0, MaxAttempts: 0 },
          Placement: { Constraints: constraints, Preferences: [{ Spread: { SpreadDescriptor: "node.id" } }] },
          ...(spec.network ? { Networks: [{ Target: spec.network.name, Aliases: aliases }] } : {}),
        },
        Mode: { Replicated: { Replicas: 1 } },
        EndpointSpec: {
          Mode: "dnsrr",
          Ports:
            port === null || published === null
              ? []
              : [{ Protocol: "tcp", TargetPort: port, PublishedPort: published, PublishMode: "host" }],
        },
      } as Docker.CreateServiceOptions);
      const id = (service as { id: string }).id;
      return await this.scheduled(id, spec);
    } catch (error) {
      await this.removeByName(name).catch(() => {});
      throw error;
    }
  }

  /** The manager's own node id: where volumes (and so stateful services) live. */
  private async managerNodeId(): Promise<string> {
    if (!this.managerNode) {
      const info = (await this.docker.info()) as { Swarm?: { NodeID?: string } };
      if (!info.Swarm?.NodeID) throw new Error("the Docker engine is not part of a swarm");
      this.managerNode = info.Swarm.NodeID;
    }
    return this.managerNode;
  }

  /**
   * Waits until the service's task runs on a node (a one-shot: until it ran), and returns the
   * service as a container at that node's address. A task the swarm rejects (an image it cannot
   * pull, a port taken, no node with room) fails the start with the swarm's reason.
   */
  private async scheduled(
    id: string,
    spec: Pick<ContainerSpec, "environmentId" | "oneShot" | "healthcheck">,
  ): Promise<ManagedContainer> {
    const deadline = Date.now() + (this.options.scheduleTimeoutMs ?? 120_000);
    let last = "no task yet";
    for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
      const [container] = (await this.list({ environmentId: spec.environmentId })).filter((c) => c.id === id);
      if (!container) throw new Error(`service ${id.slice(0, 12)} disappeared while it started`);
      const tasks = (await this.docker.listTasks({ filters: { service: [id] } })) as SwarmTask[];
      const failed = tasks.find((t) => t.Status?.State === "rejected" || t.Status?.State === "failed");
      if (container.running || (spec.oneShot && tasks.some((t) => FINAL_STATES.has(t.Status?.State ?? "")))) {
        return container;
      }
      if (spec.healthcheck && container.address && container.state === "starting") return container;
      if (failed && !spec.oneShot) {
        throw new Error(`the swarm could not run the service: ${failed.Status?.Err ?? failed.Status?.State}`);
      }
      last = tasks.map((t) => `${t.Status?.State}${t.Status?.Err ? ` (${t.Status.Err})` : ""}`).join(", ");
      if (Date.now() > deadline) throw new Error(`the service's task did not start: ${last}`);
      await sleep(wait);
    }
  }

  /** Scales the service back to its one task and waits until it runs (on whichever node the swarm picks). */
  async resume(id: string): Promise<void> {
    await this.scale(id, 1, "start");
    const info = await this.docker.getService(id).inspect();
    const labels = info.Spec?.Labels ?? {};
    await this.scheduled(id, {
      environmentId: labels[LABELS.environment] ?? "",
      oneShot: false,
      healthcheck: undefined,
    });
  }

  async stop(id: string): Promise<void> {
    await this.scale(id, 0, "stop");
  }

  private async scale(id: string, replicas: number, verb: string): Promise<void> {
    const service = this.docker.getService(id);
    let info: Docker.Service;
    try {
      info = await service.inspect();
    } catch (error) {
      if (isNotFound(error) && replicas === 0) return;
      throw error;
    }
    if (!this.ours(info.Spec?.Labels ?? {})) {
      throw new Error(`refusing to ${verb} service ${id.slice(0, 12)}: not managed by this edgeplane`);
    }
    if (info.Spec?.Mode?.Replicated?.Replicas === replicas) return;
    await service.update({
      version: info.Version?.Index,
      ...info.Spec,
      Mode: { Replicated: { Replicas: replicas } },
    });
  }

  /** Removes a service of this instance and gives its port back; idempotent. */
  async remove(id: string): Promise<void> {
    const service = this.docker.getService(id);
    let name: string;
    try {
      const info = await service.inspect();
      if (!this.ours(info.Spec?.Labels ?? {})) {
        throw new Error(`refusing to remove service ${id.slice(0, 12)}: not managed by this edgeplane`);
      }
      name = info.Spec?.Name ?? "";
      await service.remove();
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    // its task's container on this node gone too, so its volumes can be removed right after
    for (let attempt = 0; attempt < 80; attempt++) {
      const left = await this.docker.listContainers({
        all: true,
        filters: { label: [`com.docker.swarm.service.id=${id}`] },
      });
      if (left.length === 0) break;
      await sleep(250);
    }
    if (name && this.options.ports) await this.options.ports.release(name);
  }

  async logsTail(id: string, lines: number): Promise<string> {
    try {
      const buffer = (await this.docker
        .getService(id)
        .logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
      return demuxBuffer(buffer).toString("utf8").slice(-4000);
    } catch {
      return "";
    }
  }

  async logs(id: string, { tail, follow, signal }: LogOptions): Promise<AsyncIterable<Buffer> | null> {
    try {
      const info = await this.docker.getService(id).inspect();
      if (!this.ours(info.Spec?.Labels ?? {})) {
        throw new Error(`refusing to read service ${id.slice(0, 12)}: not managed by this edgeplane`);
      }
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const options = { stdout: true, stderr: true, tail };
    if (follow) {
      const stream = (await this.streaming.getService(id).logs({
        ...options,
        follow: true,
        ...(signal ? { abortSignal: signal } : {}),
      })) as unknown as NodeJS.ReadableStream;
      return demuxFrames(chunksOf(stream, signal));
    }
    const buffer = (await this.docker
      .getService(id)
      .logs({ ...options, follow: false })) as unknown as Buffer;
    return demuxFrames(
      (async function* () {
        yield buffer;
      })(),
    );
  }

  /** A one-shot's exit code once its task ended; null while it runs, or when the service is gone. */
  async exitCode(id: string): Promise<number | null> {
    let tasks: SwarmTask[];
    try {
      tasks = (await this.docker.listTasks({ filters: { service: [id] } })) as SwarmTask[];
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const task = newest(tasks);
    if (!task || !FINAL_STATES.has(task.Status?.State ?? "")) return null;
    return task.Status?.ContainerStatus?.ExitCode ?? (task.Status?.State === "complete" ? 0 : 1);
  }

  /** Volumes live on the manager's node (see the class comment). */
  async ensureVolume(spec: VolumeSpec): Promise<{ name: string; created: boolean }> {
    return this.local.ensureVolume(spec);
  }

  async listVolumes(filter: { environmentId?: string } = {}): Promise<ManagedVolume[]> {
    return this.local.listVolumes(filter);
  }

  async removeVolume(name: string): Promise<void> {
    return this.local.removeVolume(name);
  }

  /** Pauses the service's task container; only a task on the manager's node (a stateful service) can be. */
  async pause(id: string): Promise<void> {
    for (const container of await this.localContainers(id, "pause")) await this.local.pause(container);
  }

  async unpause(id: string): Promise<void> {
    for (const container of await this.localContainers(id, "unpause")) await this.local.unpause(container);
  }

  private async localContainers(id: string, verb: string): Promise<string[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`com.docker.swarm.service.id=${id}`] },
    });
    if (containers.length === 0 && (await this.list()).some((c) => c.id === id && c.running)) {
      throw new Error(`cannot ${verb} service ${id.slice(0, 12)}: its task runs on another node`);
    }
    return containers.map((c) => c.Id);
  }

  async health(id: string): Promise<HealthStatus | null> {
    try {
      const info = await this.docker.getService(id).inspect();
      const [container] = (
        await this.list({ environmentId: info.Spec?.Labels?.[LABELS.environment] ?? "" })
      ).filter((c) => c.id === id);
      return container?.health ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Helper containers run on the manager's node, where volumes are. */
  async runOnce(spec: RunOnceSpec): Promise<{ exitCode: number; output: string }> {
    return this.local.runOnce(spec);
  }

  /** Ports held for services that no longer exist (removed by hand, or a crash between the two) are given back. */
  async prune(): Promise<number> {
    if (!this.options.ports) return 0;
    const services = await this.docker.listServices({
      filters: { label: [`${LABELS.managed}=true`, `${LABELS.instance}=${this.options.instance}`] },
    });
    const names = new Set(services.map((s) => s.Spec?.Name));
    const prefix = `ep-${this.options.instance}-`;
    let pruned = 0;
    for (const owner of await this.options.ports.owners()) {
      if (!owner.startsWith(prefix) || names.has(owner)) continue;
      await this.options.ports.release(owner);
      pruned++;
    }
    return pruned;
  }

  private ours(labels: Record<string, string>): boolean {
    return labels[LABELS.managed] === "true" && labels[LABELS.instance] === this.options.instance;
  }

  private async removeByName(name: string): Promise<void> {
    const existing = await this.docker.listServices({ filters: { name: [name] } });
    for (const s of existing) if (s.Spec?.Name === name) await this.remove(s.ID);
  }
}

/** A service name of at most 63 characters: long ones are cut and made unique by a hash of the whole. */
export function serviceName(full: string): string {
  if (full.length <= SERVICE_NAME_MAX) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${full.slice(0, SERVICE_NAME_MAX - 9).replace(/-+$/, "")}-${hash}`;
}

function volumeLabelsOf(spec: ContainerSpec, volume: string): Record<string, string> {
  return volumeLabelsFor({
    ...spec,
    volume: volume.slice(volumePrefixFor(spec.instance, spec.environmentId).length),
  });
}

const newest = (tasks: SwarmTask[]) =>
  [...tasks].sort((a, b) => (b.Version?.Index ?? 0) - (a.Version?.Index ?? 0))[0];

/**
 * The task that stands for the service now: one meant to run on a node that is up (a task on a node
 * that went down is still reported running until the swarm gives up on it), else the newest.
 */
function currentTask(tasks: SwarmTask[], nodes: Map<string, NodeInfo>): SwarmTask | undefined {
  const live = tasks.filter(
    (t) => t.DesiredState === "running" && nodes.get(t.NodeID ?? "")?.ready !== false,
  );
  const running = live.find((t) => t.Status?.State === "running");
  return running ?? newest(live) ?? newest(tasks);
}

function managedService(
  service: Docker.Service,
  task: SwarmTask | undefined,
  nodes: Map<string, NodeInfo>,
): ManagedContainer {
  const labels = service.Spec?.Labels ?? {};
  const replicas = service.Spec?.Mode?.Replicated?.Replicas ?? 1;
  const taskState = task?.Status?.State ?? "new";
  const node = task?.NodeID ? nodes.get(task.NodeID) : undefined;
  const running =
    replicas > 0 && taskState === "running" && task?.DesiredState === "running" && node?.ready === true;
  const state =
    replicas === 0
      ? "exited"
      : running
        ? "running"
        : PENDING_STATES.has(taskState)
          ? taskState === "starting"
            ? "starting"
            : "created"
          : "exited";
  const spec = service.Spec as
    | {
        TaskTemplate?: { ContainerSpec?: { HealthCheck?: { Test?: string[] } } };
        EndpointSpec?: { Ports?: Array<{ PublishedPort?: number }> };
      }
    | undefined;
  const check = spec?.TaskTemplate?.ContainerSpec?.HealthCheck?.Test;
  const hasHealthcheck = check !== undefined && check[0] !== "NONE";
  return {
    id: service.ID,
    name: service.Spec?.Name ?? "",
    projectId: labels[LABELS.project] ?? "",
    environmentId: labels[LABELS.environment] ?? "",
    generation: Number(labels[LABELS.generation] ?? -1),
    service: labels[LABELS.service] ?? null,
    configHash: labels[LABELS.config] ?? null,
    state,
    running,
    // a task with a healthcheck is `starting` until it passes, then `running`
    health: hasHealthcheck ? (running ? "healthy" : state === "starting" ? "starting" : null) : null,
    address: replicas > 0 && node && (running || state === "starting") ? node.address : null,
    publishedPort: spec?.EndpointSpec?.Ports?.[0]?.PublishedPort ?? null,
    node: replicas > 0 && node ? node.hostname : null,
  };
}
