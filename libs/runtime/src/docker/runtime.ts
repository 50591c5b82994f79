import { randomBytes } from "node:crypto";
import { createRequire, Module } from "node:module";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type Docker from "dockerode";
import { freeAddress } from "../addresses.ts";
import { LABELS, labelsFor, networkNameFor, volumeLabelsFor, volumeNameFor } from "../labels.ts";
import {
  type ContainerSpec,
  type HealthStatus,
  type LogOptions,
  type ManagedContainer,
  type ManagedNetwork,
  type ManagedVolume,
  type NetworkSpec,
  type PullAuth,
  type RunOnceSpec,
  type Runtime,
  SubnetTaken,
  VolumeInUse,
  type VolumeMount,
  type VolumeSpec,
} from "../types.ts";
import { type DockerError, isNotFound } from "./errors.ts";
import { hardenedHostConfig } from "./hardening.ts";
import { healthFromInspect, healthFromStatusText } from "./health-status.ts";
import { chunksOf, demuxBuffer, demuxFrames } from "./log-stream.ts";
import { volumeMounts } from "./mounts.ts";
import { HOLDER_IMAGE, HOLDER_LABELS, pauseProgram, tarOfOneFile } from "./netns-holder.ts";
import { startPlan } from "./start-plan.ts";

/** The most of a helper container's output `runOnce` hands back: its tail. */
const RUN_ONCE_OUTPUT_BYTES = 4096;

/**
 * dockerode is loaded when a runtime is first used, not when a process starts: the API holds a
 * runtime only to read logs, which most never do. At load it also requires BuildKit's gRPC session
 * support (dockerode's `session`, with grpc-js and protobufjs) and an SSH client (docker-modem's
 * `ssh`, with ssh2): about 11 of its 21 MiB. edgeplane never builds images and reaches Docker only
 * over `unix://` or `tcp://` (its config refuses anything else), so those two modules are
 * registered as stubs that refuse to run before dockerode is required.
 */
let DockerClass: typeof Docker | undefined;
const dockerode = (): typeof Docker => {
  if (DockerClass) return DockerClass;
  const require = createRequire(import.meta.url);
  const entry = require.resolve("dockerode");
  const unused = (what: string) => () => {
    throw new Error(`${what} is not available in edgeplane`);
  };
  registerStub(join(dirname(entry), "session.js"), unused("building images with BuildKit sessions"));
  const modem = createRequire(entry).resolve("docker-modem");
  registerStub(join(dirname(modem), "ssh.js"), unused("ssh:// Docker hosts"));
  DockerClass = require(entry) as typeof Docker;
  return DockerClass;
};

/** Makes `require(path)` return `exports` without reading the file (unless something loaded it already). */
function registerStub(path: string, exports: unknown): void {
  const cache = createRequire(import.meta.url).cache;
  if (cache[path]) return;
  const stub = new Module(path);
  stub.filename = path;
  stub.loaded = true;
  stub.exports = exports;
  cache[path] = stub;
}

/**
 * A Docker API client: on `socketPath`, or where the standard `DOCKER_HOST` (with `DOCKER_TLS_VERIFY`
 * and `DOCKER_CERT_PATH`, as the docker CLI reads them) points when no socket is given.
 */
export function dockerClient(socketPath: string | undefined, timeoutMs?: number): Docker {
  return new (dockerode())({
    ...(socketPath ? { socketPath } : {}),
    ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
  });
}

export interface DockerRuntimeOptions {
  /** Unset: `DOCKER_HOST`. */
  socketPath?: string | undefined;
  instance: string;
  timeoutMs?: number;
  /** The driver of environments' networks: `bridge` on one host, `overlay` on a Swarm. */
  networkDriver?: "bridge" | "overlay";
}

/** An IPv4 address, as a holder's label carries it. */
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export class DockerRuntime implements Runtime {
  private client: Docker | undefined;
  private streamingClient: Docker | undefined;
  /** The holder image, made once per process (null: holders not available on this architecture). */
  private holderImage: Promise<string | null> | undefined;
  /** Per environment, the last of its starts and preparations: each waits for the one before. */
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(private readonly options: DockerRuntimeOptions) {}

  get docker(): Docker {
    // a hung daemon fails the call (and the job's attempt) instead of holding it, its lock and a connection
    this.client ??= dockerClient(this.options.socketPath, this.options.timeoutMs ?? 60_000);
    return this.client;
  }

  /** For followed log streams only, which may rightly stay quiet for longer than any timeout. */
  private get streaming(): Docker {
    this.streamingClient ??= dockerClient(this.options.socketPath);
    return this.streamingClient;
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async imageId(image: string): Promise<string | null> {
    try {
      return (await this.docker.getImage(image).inspect()).Id;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async imagesInUse(): Promise<Set<string>> {
    const containers = await this.docker.listContainers({ all: true });
    return new Set(containers.map((c) => c.ImageID));
  }

  async removeImage(image: string): Promise<"removed" | "absent" | "in-use"> {
    try {
      await this.docker.getImage(image).remove({ force: false, noprune: false });
      return "removed";
    } catch (error) {
      if (isNotFound(error)) return "absent";
      if ((error as DockerError).statusCode === 409) return "in-use";
      throw error;
    }
  }

  async pull(image: string, auth?: PullAuth): Promise<void> {
    const stream = await this.docker.pull(image, auth ? { authconfig: auth } : {});
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
        const failed = output?.find((event) => event.error);
        if (error) reject(error);
        else if (failed) reject(new Error(failed.error));
        else resolve();
      });
    });
  }

  /** Containers of this instance only, by label; never anything edgeplane did not create. */
  async list(filter: { environmentId?: string } = {}): Promise<ManagedContainer[]> {
    const labels = [`${LABELS.managed}=true`, `${LABELS.instance}=${this.options.instance}`];
    if (filter.environmentId) labels.push(`${LABELS.environment}=${filter.environmentId}`);
    const containers = await this.docker.listContainers({ all: true, filters: { label: labels } });
    return containers.map((c) => {
      const environmentId = c.Labels[LABELS.environment] ?? "";
      return {
        id: c.Id,
        name: (c.Names[0] ?? "").replace(/^\//, ""),
        projectId: c.Labels[LABELS.project] ?? "",
        environmentId,
        generation: Number(c.Labels[LABELS.generation] ?? -1),
        service: c.Labels[LABELS.service] ?? null,
        configHash: c.Labels[LABELS.config] ?? null,
        state: c.State,
        running: c.State === "running",
        health: c.State === "running" ? healthFromStatusText(c.Status) : null,
        address: this.addressOf(c),
        publishedPort: null,
        node: null,
      };
    });
  }

  /**
   * Where a listed container is reached: its address on its environment's network, or, having
   * joined a holder, the holder's (its label).
   */
  private addressOf(c: Docker.ContainerInfo): string | null {
    const environmentId = c.Labels[LABELS.environment] ?? "";
    const network = c.NetworkSettings?.Networks?.[networkNameFor(this.options.instance, environmentId)];
    return network?.IPAMConfig?.IPv4Address || network?.IPAddress || c.Labels[HOLDER_LABELS.address] || null;
  }

  start(spec: ContainerSpec): Promise<ManagedContainer> {
    return this.inTurn(spec.environmentId, () => this.startNow(spec));
  }

  /**
   * Runs `fn` once the environment's earlier starts and preparations (in this process) are done: a
   * holder is never made at an address a start is taking, and a start sees a holder being made.
   */
  private inTurn<T>(environmentId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.turns.get(environmentId) ?? Promise.resolve();
    const run = before.catch(() => {}).then(fn);
    const settled = run.catch(() => {});
    this.turns.set(environmentId, settled);
    settled.then(() => {
      if (this.turns.get(environmentId) === settled) this.turns.delete(environmentId);
    });
    return run;
  }

  private async startNow(spec: ContainerSpec): Promise<ManagedContainer> {
    const { labels, mounts, healthcheck, aliases, name, env } = startPlan(this.options.instance, spec);
    await this.assertOwnVolumes(spec.environmentId, spec.mounts ?? []);
    await this.removeByName(name);
    // a holder made ahead gives the container its network at once; names for other containers
    // (aliases) belong to an endpoint made for them, so a container with aliases attaches itself
    const spares = spec.network ? await this.spareHolders(spec.environmentId, spec.network.name) : [];
    const holder = aliases.length === 0 ? (spares[0] ?? null) : null;
    // the address asked for may be a spare holder's
    if (!holder) for (const spare of spares) await this.removeHolder(spare.id);
    const port = spec.containerPort;
    const container = await this.docker.createContainer({
      name,
      Image: spec.image,
      Env: env,
      Labels: holder
        ? { ...labels, [HOLDER_LABELS.joined]: holder.id, [HOLDER_LABELS.address]: holder.address }
        : labels,
      ...(port === null || holder ? {} : { ExposedPorts: { [`${port}/tcp`]: {} } }),
      ...(spec.command ? { Cmd: spec.command } : {}),
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      ...(healthcheck ? { Healthcheck: healthcheck } : {}),
      HostConfig: {
        // nothing published on the host: the gateway reaches the container on its environment's
        // network, at an address fixed for the container's life (restarts and daemon restarts
        // included): its own, or the holder's whose network namespace it shares
        NetworkMode: holder ? `container:${holder.id}` : (spec.network?.name ?? "none"),
        RestartPolicy: { Name: spec.oneShot ? "no" : "unless-stopped" },
        ...hardenedHostConfig(spec),
        ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      },
      ...(spec.network && !holder
        ? {
            NetworkingConfig: {
              EndpointsConfig: {
                [spec.network.name]: {
                  IPAMConfig: { IPv4Address: spec.network.address },
                  ...(aliases.length > 0 ? { Aliases: aliases } : {}),
                },
              },
            },
          }
        : {}),
    });
    try {
      await container.start();
      const info = await container.inspect();
      return {
        id: info.Id,
        name,
        projectId: spec.projectId,
        environmentId: spec.environmentId,
        generation: spec.generation,
        service: spec.service ?? null,
        configHash: spec.configHash ?? null,
        state: info.State.Status,
        running: info.State.Running,
        health: healthFromInspect(info.State.Health?.Status),
        address: holder?.address ?? spec.network?.address ?? null,
        publishedPort: null,
        node: null,
      };
    } catch (error) {
      await container.remove({ force: true }).catch(() => {});
      throw error;
    }
  }

  /**
   * Makes holders on the environment's network, at free addresses of its subnet, until `holders`
   * (default 1) are spare, so that its next containers start without setting up a network of their
   * own. Best left off the critical path: each costs what attaching a container costs.
   */
  prepareStart(spec: {
    projectId: string;
    environmentId: string;
    network: { name: string; subnet: string };
    holders?: number;
  }): Promise<void> {
    return this.inTurn(spec.environmentId, () => this.prepareNow(spec));
  }

  private async prepareNow(spec: {
    projectId: string;
    environmentId: string;
    network: { name: string; subnet: string };
    holders?: number;
  }): Promise<void> {
    if (this.options.networkDriver === "overlay") return;
    const { holders, taken } = await this.holders(spec.environmentId);
    const want = spec.holders ?? 1;
    const ready = holders.filter((h) => h.spare && h.running && h.networks.includes(spec.network.name));
    if (ready.length >= want) return;
    const image = await this.ensureHolderImage();
    if (!image) return;
    for (let count = ready.length; count < want; count++) {
      const address = freeAddress(spec.network.subnet, taken);
      taken.add(address);
      await this.makeHolder(spec, image, address);
    }
  }

  /** A holder at `address`; a start that fails is tried once more with a new container. */
  private async makeHolder(
    spec: { projectId: string; environmentId: string; network: { name: string } },
    image: string,
    address: string,
  ): Promise<void> {
    try {
      await this.makeHolderOnce(spec, image, address);
    } catch {
      await this.makeHolderOnce(spec, image, address);
    }
  }

  private async makeHolderOnce(
    spec: { projectId: string; environmentId: string; network: { name: string } },
    image: string,
    address: string,
  ): Promise<void> {
    const holder = await this.docker.createContainer({
      name: `ep-${this.options.instance}-${spec.environmentId}-ns-${randomBytes(3).toString("hex")}`,
      Image: image,
      Cmd: ["/pause"],
      Labels: {
        [HOLDER_LABELS.holder]: this.options.instance,
        [LABELS.project]: spec.projectId,
        [LABELS.environment]: spec.environmentId,
        [HOLDER_LABELS.address]: address,
      },
      // it ignores every signal it can: stopping it is killing it
      StopSignal: "SIGKILL",
      HostConfig: {
        NetworkMode: spec.network.name,
        RestartPolicy: { Name: "unless-stopped" },
        ReadonlyRootfs: true,
        SecurityOpt: ["no-new-privileges"],
        CapDrop: ["ALL"],
        // a limit, not a reservation: the program itself needs one page, but the runtime's own
        // start-up (runc copies its binary into memory the container is charged for) does not fit
        // in 16 MiB every time, and an out-of-memory kill then fails the start ("cannot start a
        // stopped process")
        Memory: 64 * 1024 * 1024,
        PidsLimit: 1,
      },
      NetworkingConfig: {
        EndpointsConfig: { [spec.network.name]: { IPAMConfig: { IPv4Address: address } } },
      },
    });
    try {
      await holder.start();
    } catch (error) {
      await holder.remove({ force: true }).catch(() => {});
      throw error;
    }
  }

  /**
   * After an engine restart Docker starts containers again in no particular order, and tries each
   * once: a container that joined a holder fails ("cannot join network of a non running
   * container") when its holder comes after it. Until `signal` aborts, this follows the engine's
   * events and starts such a container again as soon as its holder runs; after every (re)connection
   * it looks at every holder once, for starts it missed. Only containers Docker failed to start that
   * way: one stopped on purpose (an environment asleep) stays stopped.
   */
  async keepJoinedRunning(signal: AbortSignal, onError: (error: Error) => void = () => {}): Promise<void> {
    while (!signal.aborted) {
      try {
        const events = (await this.streaming.getEvents({
          filters: {
            type: ["container"],
            event: ["start"],
            label: [`${HOLDER_LABELS.holder}=${this.options.instance}`],
          },
          abortSignal: signal,
        })) as NodeJS.ReadableStream;
        await this.restartJoined();
        let buffered = "";
        for await (const chunk of events) {
          buffered += chunk.toString();
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const line of lines) {
            const id = line.trim() ? (JSON.parse(line) as { id?: string }).id : undefined;
            if (id) await this.restartJoined(id);
          }
        }
      } catch (error) {
        if (!signal.aborted) onError(error as Error);
      }
      await sleep(1000, undefined, { signal }).catch(() => {});
    }
  }

  /** Starts again the containers (of one holder, or of all) that Docker failed to start before their holder. */
  private async restartJoined(holderId?: string): Promise<void> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: {
        label: [
          `${LABELS.managed}=true`,
          `${LABELS.instance}=${this.options.instance}`,
          holderId ? `${HOLDER_LABELS.joined}=${holderId}` : HOLDER_LABELS.joined,
        ],
        status: ["created", "exited"],
      },
    });
    for (const c of containers) {
      const container = this.docker.getContainer(c.Id);
      const { State } = await container.inspect();
      if (State.Running || !/cannot join network of a non running container/.test(State.Error ?? ""))
        continue;
      await container.start().catch(() => {}); // its holder is not back yet: its own start event comes
    }
  }

  /**
   * The environment's holders (with the network each is on, and whether a container joined it) and
   * every address its containers and holders hold, from one listing.
   */
  private async holders(environmentId: string) {
    const all = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.environment}=${environmentId}`] },
    });
    const containers = all.filter((c) => this.ours(c.Labels));
    const joined = new Set(containers.map((c) => c.Labels[HOLDER_LABELS.joined]));
    const holders = all
      .filter((c) => c.Labels[HOLDER_LABELS.holder] === this.options.instance)
      .map((c) => ({
        id: c.Id,
        address: c.Labels[HOLDER_LABELS.address] ?? "",
        networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
        running: c.State === "running",
        spare: !joined.has(c.Id),
      }));
    const taken = new Set<string | null>([
      ...containers.map((c) => this.addressOf(c)),
      ...holders.map((h) => h.address),
    ]);
    return { holders, taken };
  }

  /** The running holders on the network no container joined yet. */
  private async spareHolders(
    environmentId: string,
    network: string,
  ): Promise<Array<{ id: string; address: string }>> {
    if (this.options.networkDriver === "overlay") return [];
    return (await this.holders(environmentId)).holders.filter(
      (h) => h.spare && h.running && h.networks.includes(network) && IPV4.test(h.address),
    );
  }

  private async removeHolder(id: string): Promise<void> {
    try {
      const labels = (await this.docker.getContainer(id).inspect()).Config.Labels ?? {};
      if (labels[HOLDER_LABELS.holder] !== this.options.instance) return;
      await this.docker.getContainer(id).remove({ force: true });
    } catch (error) {
      if (isNotFound(error)) return;
      if (/already in progress/.test((error as DockerError).message ?? "")) return;
      throw error;
    }
  }

  /** The holder image, imported once if Docker lacks it: one static file, no base image pulled. */
  private ensureHolderImage(): Promise<string | null> {
    this.holderImage ??= (async () => {
      const program = pauseProgram();
      if (!program) return null;
      if (await this.hasImage(HOLDER_IMAGE)) return HOLDER_IMAGE;
      const [repo = "", tag = ""] = HOLDER_IMAGE.split(":");
      const stream = await this.docker.importImage(tarOfOneFile("pause", program) as never, { repo, tag });
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(stream as NodeJS.ReadableStream, (error: Error | null) =>
          error ? reject(error) : resolve(),
        ),
      );
      return HOLDER_IMAGE;
    })().catch((error: Error) => {
      this.holderImage = undefined; // asked again next time
      throw error;
    });
    return this.holderImage;
  }

  async ensureNetwork(spec: NetworkSpec): Promise<ManagedNetwork> {
    const existing = await this.network(spec.name);
    if (existing?.subnet === spec.subnet) return existing;
    if (existing) await this.removeNetwork(existing.name); // a stale subnet: its containers are gone with it
    try {
      const network = await this.docker.createNetwork({
        Name: spec.name,
        Driver: this.options.networkDriver ?? "bridge",
        ...(this.options.networkDriver === "overlay" ? { Attachable: true } : {}),
        CheckDuplicate: true,
        Labels: labelsFor({ ...spec, generation: 0, deploymentId: null }),
        IPAM: { Driver: "default", Config: [{ Subnet: spec.subnet }] },
      });
      return { id: network.id, name: spec.name, environmentId: spec.environmentId, subnet: spec.subnet };
    } catch (error) {
      // made meanwhile by another worker (staging makes it ahead of reconcile): the same network
      const raced = await this.network(spec.name);
      if (raced?.subnet === spec.subnet) return raced;
      const message = (error as DockerError).message ?? "";
      if (/overlap|already|in use/i.test(message)) {
        throw new SubnetTaken(`subnet ${spec.subnet} is used by another network`);
      }
      throw error;
    }
  }

  async listNetworks(): Promise<ManagedNetwork[]> {
    const networks = await this.docker.listNetworks({
      filters: { label: [`${LABELS.managed}=true`, `${LABELS.instance}=${this.options.instance}`] },
    });
    return networks.map((n) => managedNetwork(n));
  }

  async removeNetwork(name: string): Promise<void> {
    const network = await this.network(name);
    if (!network) return;
    // holders live on their environment's network only: they go with it
    for (const h of (await this.holders(network.environmentId)).holders) await this.removeHolder(h.id);
    try {
      await this.docker.getNetwork(network.id).remove();
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }

  /** One network of this instance, by name (one call, not a listing); undefined if absent or not ours. */
  private async network(name: string): Promise<ManagedNetwork | undefined> {
    try {
      const info = await this.docker.getNetwork(name).inspect();
      const labels = info.Labels ?? {};
      if (labels[LABELS.managed] !== "true" || labels[LABELS.instance] !== this.options.instance)
        return undefined;
      return managedNetwork(info);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async ensureVolume(spec: VolumeSpec): Promise<{ name: string; created: boolean }> {
    if (spec.instance !== this.options.instance) {
      throw new Error(
        `refusing to create a volume of instance ${spec.instance} from instance ${this.options.instance}`,
      );
    }
    const labels = volumeLabelsFor(spec);
    const name = volumeNameFor(spec.instance, spec.environmentId, spec.volume);
    const existing = await this.volumeLabels(name);
    if (existing === undefined) {
      await this.docker.createVolume({ Name: name, Driver: "local", Labels: labels });
    }
    // a volume of that name made by someone else (or in a race, without these labels) is not adopted
    const labelled = existing ?? (await this.volumeLabels(name)) ?? {};
    for (const key of [LABELS.managed, LABELS.instance, LABELS.environment, LABELS.volume]) {
      if (labelled[key] !== labels[key]) {
        throw new Error(`volume ${name} exists but is not this edgeplane's volume ${spec.volume}`);
      }
    }
    return { name, created: existing === undefined };
  }

  async listVolumes(filter: { environmentId?: string } = {}): Promise<ManagedVolume[]> {
    const labels = [`${LABELS.managed}=true`, `${LABELS.instance}=${this.options.instance}`];
    if (filter.environmentId) labels.push(`${LABELS.environment}=${filter.environmentId}`);
    const { Volumes } = await this.docker.listVolumes({ filters: { label: labels } });
    return (Volumes ?? []).map((v) => ({
      name: v.Name,
      environmentId: v.Labels?.[LABELS.environment] ?? "",
      volume: v.Labels?.[LABELS.volume] ?? "",
    }));
  }

  async removeVolume(name: string): Promise<void> {
    const labels = await this.volumeLabels(name);
    if (labels === undefined) return;
    if (!this.ours(labels)) {
      throw new Error(`refusing to remove volume ${name}: not managed by this edgeplane`);
    }
    try {
      await this.docker.getVolume(name).remove();
    } catch (error) {
      if (isNotFound(error)) return;
      if ((error as DockerError).statusCode === 409) {
        throw new VolumeInUse(
          `volume ${name} is still used by a container: ${(error as DockerError).message}`,
        );
      }
      throw error;
    }
  }

  /** The labels of a volume, {} if it has none; undefined if there is no volume of that name. */
  private async volumeLabels(name: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.docker.getVolume(name).inspect()).Labels ?? {};
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Every mounted volume exists and carries this instance's and the environment's labels: Docker
   * would otherwise create a missing one, unlabelled, that nothing ever removes.
   */
  private async assertOwnVolumes(
    environmentId: string,
    mounts: VolumeMount[],
    readFromEnvironmentId?: string,
  ): Promise<void> {
    for (const mount of mounts) {
      const labels = await this.volumeLabels(mount.volume);
      if (labels === undefined)
        throw new Error(`volume ${mount.volume} does not exist: ensureVolume it first`);
      const owner = labels[LABELS.environment];
      const readable =
        mount.readOnly && readFromEnvironmentId !== undefined && owner === readFromEnvironmentId;
      if (!this.ours(labels) || (owner !== environmentId && !readable)) {
        throw new Error(
          `refusing to mount volume ${mount.volume}: not a volume of environment ${environmentId}`,
        );
      }
    }
  }

  async pause(id: string): Promise<void> {
    const container = await this.ownContainer(id, "pause");
    if ((await container.inspect()).State.Paused) return;
    try {
      await container.pause();
    } catch (error) {
      if (/already paused/i.test((error as DockerError).message ?? "")) return;
      throw error;
    }
  }

  async unpause(id: string): Promise<void> {
    const container = await this.ownContainer(id, "unpause");
    if (!(await container.inspect()).State.Paused) return;
    try {
      await container.unpause();
    } catch (error) {
      if (/not paused/i.test((error as DockerError).message ?? "")) return;
      throw error;
    }
  }

  async health(id: string): Promise<HealthStatus | null> {
    try {
      return healthFromInspect((await this.docker.getContainer(id).inspect()).State.Health?.Status);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async runOnce(spec: RunOnceSpec): Promise<{ exitCode: number; output: string }> {
    if (spec.instance !== this.options.instance) {
      throw new Error(
        `refusing to run a helper of instance ${spec.instance} from instance ${this.options.instance}`,
      );
    }
    if (spec.command.length === 0) throw new Error("runOnce needs a command");
    const labels = labelsFor({ ...spec, generation: 0, deploymentId: null });
    const mounts = volumeMounts(
      this.options.instance,
      spec.environmentId,
      spec.mounts,
      spec.readFromEnvironmentId,
    );
    await this.assertOwnVolumes(spec.environmentId, spec.mounts, spec.readFromEnvironmentId);
    const deadline = Date.now() + spec.timeoutMs;
    const container = await this.docker.createContainer({
      name: `ep-${this.options.instance}-${spec.environmentId}-once-${randomBytes(4).toString("hex")}`,
      Image: spec.image,
      // the command as given, whatever the image's entrypoint and command
      Entrypoint: spec.command,
      Labels: labels,
      Healthcheck: { Test: ["NONE"] },
      ...(spec.user ? { User: spec.user } : {}),
      HostConfig: {
        NetworkMode: "none",
        RestartPolicy: { Name: "no" },
        ...hardenedHostConfig({}),
        ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      },
    });
    try {
      await container.start();
      // polled, not `wait`ed: a long wait would outlive the client's request timeout
      for (let attempt = 1; ; attempt++) {
        const state = (await container.inspect()).State;
        if (state.Status === "exited" || state.Status === "dead") {
          const logs = (await container.logs({
            stdout: true,
            stderr: true,
            tail: 1000,
          })) as unknown as Buffer;
          return { exitCode: state.ExitCode, output: tail(demuxBuffer(logs), RUN_ONCE_OUTPUT_BYTES) };
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`helper container of ${spec.image} did not finish within ${spec.timeoutMs} ms`);
        }
        await sleep(Math.min(50 * attempt, 500, left));
      }
    } finally {
      await container.remove({ force: true, v: false }).catch(() => {});
    }
  }

  /** A container of this instance, or an error naming what was refused. */
  private async ownContainer(id: string, verb: string): Promise<Docker.Container> {
    const container = this.docker.getContainer(id);
    const labels = (await container.inspect()).Config.Labels ?? {};
    if (!this.ours(labels)) {
      throw new Error(`refusing to ${verb} container ${id.slice(0, 12)}: not managed by this edgeplane`);
    }
    return container;
  }

  private ours(labels: Record<string, string>): boolean {
    return labels[LABELS.managed] === "true" && labels[LABELS.instance] === this.options.instance;
  }

  async resume(id: string): Promise<void> {
    const container = await this.ownContainer(id, "start");
    try {
      await container.start();
    } catch (error) {
      if ((error as DockerError).statusCode === 304) return; // already running
      throw error;
    }
  }

  async stop(id: string, timeoutSeconds = 10): Promise<void> {
    const container = await this.ownContainer(id, "stop");
    try {
      await container.stop({ t: timeoutSeconds });
    } catch (error) {
      if ((error as DockerError).statusCode === 304 || isNotFound(error)) return; // stopped already, or gone
      throw error;
    }
  }

  /** Removes a container, only if it carries this instance's labels. Idempotent. */
  async remove(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    try {
      const info = await container.inspect();
      const labels = info.Config.Labels ?? {};
      if (labels[LABELS.managed] !== "true" || labels[LABELS.instance] !== this.options.instance) {
        throw new Error(`refusing to remove container ${id.slice(0, 12)}: not managed by this edgeplane`);
      }
      await container.remove({ force: true });
      const holder = labels[HOLDER_LABELS.joined];
      if (holder) await this.removeHolder(holder);
    } catch (error) {
      if (isNotFound(error)) return;
      if (
        (error as DockerError).statusCode === 409 &&
        /already in progress/.test((error as DockerError).message)
      )
        return;
      throw error;
    }
  }

  async exitCode(id: string): Promise<number | null> {
    try {
      const state = (await this.docker.getContainer(id).inspect()).State;
      return state.Running ? null : state.ExitCode;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async logsTail(id: string, lines: number): Promise<string> {
    try {
      const buffer = (await this.docker
        .getContainer(id)
        .logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
      return demuxBuffer(buffer).toString("utf8").slice(-4000);
    } catch {
      return "";
    }
  }

  async logs(id: string, { tail, follow, signal }: LogOptions): Promise<AsyncIterable<Buffer> | null> {
    let tty: boolean;
    try {
      const info = await this.docker.getContainer(id).inspect();
      if (!this.ours(info.Config.Labels ?? {})) {
        throw new Error(`refusing to read container ${id.slice(0, 12)}: not managed by this edgeplane`);
      }
      tty = info.Config.Tty;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const options = { stdout: true, stderr: true, tail, follow } as const;
    let source: AsyncIterable<Buffer>;
    try {
      if (follow) {
        const stream = (await this.streaming.getContainer(id).logs({
          ...options,
          follow: true,
          ...(signal ? { abortSignal: signal } : {}),
        })) as NodeJS.ReadableStream;
        source = chunksOf(stream, signal);
      } else {
        const buffer = (await this.docker
          .getContainer(id)
          .logs({ ...options, follow: false })) as unknown as Buffer;
        source = (async function* () {
          yield buffer;
        })();
      }
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    // a container with a TTY writes one raw stream; any other multiplexes stdout and stderr
    return tty ? source : demuxFrames(source);
  }

  private async removeByName(name: string): Promise<void> {
    const existing = await this.docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
    for (const c of existing) await this.remove(c.Id);
  }
}

/** The last `bytes` bytes of output as text, not starting inside a UTF-8 character. */
function tail(output: Buffer, bytes: number): string {
  let start = Math.max(0, output.length - bytes);
  while (start < output.length && ((output[start] ?? 0) & 0xc0) === 0x80) start++;
  return output.subarray(start).toString("utf8");
}

function managedNetwork(n: {
  Id: string;
  Name: string;
  Labels?: Record<string, string>;
  IPAM?: { Config?: Array<{ Subnet?: string }> };
}): ManagedNetwork {
  return {
    id: n.Id,
    name: n.Name,
    environmentId: n.Labels?.[LABELS.environment] ?? "",
    subnet: n.IPAM?.Config?.[0]?.Subnet ?? null,
  };
}
