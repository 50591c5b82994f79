import Docker from "dockerode";
import { LABELS, labelsFor, networkNameFor } from "../labels.ts";
import {
  type ContainerSpec,
  type ManagedContainer,
  type ManagedNetwork,
  type NetworkSpec,
  type PullAuth,
  type Runtime,
  SubnetTaken,
} from "../types.ts";

interface DockerError {
  statusCode?: number;
  message: string;
}
const isNotFound = (error: unknown) => (error as DockerError).statusCode === 404;

/** Capabilities an ordinary web process may need; everything else is dropped. */
const KEPT_CAPABILITIES = ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", "DAC_OVERRIDE", "FOWNER"];

export class DockerRuntime implements Runtime {
  readonly docker: Docker;

  constructor(private readonly options: { socketPath: string; instance: string; timeoutMs?: number }) {
    // a hung daemon fails the call (and the job's attempt) instead of holding it, its lock and a connection
    this.docker = new Docker({ socketPath: options.socketPath, timeout: options.timeoutMs ?? 60_000 });
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
      const network = c.NetworkSettings?.Networks?.[networkNameFor(this.options.instance, environmentId)];
      return {
        id: c.Id,
        name: (c.Names[0] ?? "").replace(/^\//, ""),
        projectId: c.Labels[LABELS.project] ?? "",
        environmentId,
        generation: Number(c.Labels[LABELS.generation] ?? -1),
        running: c.State === "running",
        address: network?.IPAMConfig?.IPv4Address || network?.IPAddress || null,
      };
    });
  }

  async start(spec: ContainerSpec): Promise<ManagedContainer> {
    const name = `ep-${this.options.instance}-${spec.projectName}-${spec.environmentName}-g${spec.generation}`;
    await this.removeByName(name);
    const container = await this.docker.createContainer({
      name,
      Image: spec.image,
      Env: Object.entries({ ...spec.env, PORT: String(spec.containerPort) }).map(([k, v]) => `${k}=${v}`),
      Labels: labelsFor(spec),
      ExposedPorts: { [`${spec.containerPort}/tcp`]: {} },
      HostConfig: {
        // nothing published on the host: the gateway reaches the container on its environment's
        // network, at an address fixed for the container's life (restarts and daemon restarts included)
        NetworkMode: spec.network?.name ?? "none",
        RestartPolicy: { Name: "unless-stopped" },
        SecurityOpt: ["no-new-privileges"],
        CapDrop: ["ALL"],
        CapAdd: KEPT_CAPABILITIES,
        Memory: spec.memoryBytes ?? 512 * 1024 * 1024,
        NanoCpus: spec.nanoCpus ?? 1_000_000_000,
        PidsLimit: 512,
      },
      ...(spec.network
        ? {
            NetworkingConfig: {
              EndpointsConfig: {
                [spec.network.name]: { IPAMConfig: { IPv4Address: spec.network.address } },
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
        running: info.State.Running,
        address: spec.network?.address ?? null,
      };
    } catch (error) {
      await container.remove({ force: true }).catch(() => {});
      throw error;
    }
  }

  async ensureNetwork(spec: NetworkSpec): Promise<ManagedNetwork> {
    const existing = await this.network(spec.name);
    if (existing?.subnet === spec.subnet) return existing;
    if (existing) await this.removeNetwork(existing.name); // a stale subnet: its containers are gone with it
    try {
      const network = await this.docker.createNetwork({
        Name: spec.name,
        Driver: "bridge",
        CheckDuplicate: true,
        Labels: labelsFor({ ...spec, generation: 0, deploymentId: null }),
        IPAM: { Driver: "default", Config: [{ Subnet: spec.subnet }] },
      });
      return { id: network.id, name: spec.name, environmentId: spec.environmentId, subnet: spec.subnet };
    } catch (error) {
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

  async resume(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    const labels = (await container.inspect()).Config.Labels ?? {};
    if (labels[LABELS.managed] !== "true" || labels[LABELS.instance] !== this.options.instance) {
      throw new Error(`refusing to start container ${id.slice(0, 12)}: not managed by this edgeplane`);
    }
    try {
      await container.start();
    } catch (error) {
      if ((error as DockerError).statusCode === 304) return; // already running
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
      return demux(buffer).slice(-4000);
    } catch {
      return "";
    }
  }

  private async removeByName(name: string): Promise<void> {
    const existing = await this.docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
    for (const c of existing) await this.remove(c.Id);
  }
}

/** Docker multiplexes stdout/stderr frames (8-byte headers) for non-TTY containers. */
function demux(buffer: Buffer): string {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    chunks.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : buffer.toString("utf8");
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
