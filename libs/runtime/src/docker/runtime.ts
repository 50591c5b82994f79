import Docker from "dockerode";
import { LABELS, labelsFor } from "../labels.ts";
import type { ContainerSpec, ManagedContainer, PullAuth, Runtime } from "../types.ts";

interface DockerError {
  statusCode?: number;
  message: string;
}
const isNotFound = (error: unknown) => (error as DockerError).statusCode === 404;

/** Capabilities an ordinary web process may need; everything else is dropped. */
const KEPT_CAPABILITIES = ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", "DAC_OVERRIDE", "FOWNER"];

export class DockerRuntime implements Runtime {
  readonly docker: Docker;

  constructor(private readonly options: { socketPath: string; instance: string }) {
    this.docker = new Docker({ socketPath: options.socketPath });
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
      const published = c.Ports.find((p) => p.IP === "127.0.0.1" && p.PublicPort);
      return {
        id: c.Id,
        name: (c.Names[0] ?? "").replace(/^\//, ""),
        projectId: c.Labels[LABELS.project] ?? "",
        environmentId: c.Labels[LABELS.environment] ?? "",
        generation: Number(c.Labels[LABELS.generation] ?? -1),
        running: c.State === "running",
        hostPort: published?.PublicPort ?? null,
      };
    });
  }

  async start(spec: ContainerSpec): Promise<ManagedContainer> {
    const name = `ep-${this.options.instance}-${spec.projectName}-${spec.environmentName}-g${spec.generation}`;
    await this.removeByName(name);
    const portKey = `${spec.containerPort}/tcp`;
    const container = await this.docker.createContainer({
      name,
      Image: spec.image,
      Env: Object.entries({ ...spec.env, PORT: String(spec.containerPort) }).map(([k, v]) => `${k}=${v}`),
      Labels: labelsFor(spec),
      ExposedPorts: { [portKey]: {} },
      HostConfig: {
        // published on loopback only, on a port Docker picks
        PortBindings: { [portKey]: [{ HostIp: "127.0.0.1", HostPort: "" }] },
        RestartPolicy: { Name: "unless-stopped" },
        SecurityOpt: ["no-new-privileges"],
        CapDrop: ["ALL"],
        CapAdd: KEPT_CAPABILITIES,
        Memory: spec.memoryBytes ?? 512 * 1024 * 1024,
        NanoCpus: spec.nanoCpus ?? 1_000_000_000,
        PidsLimit: 512,
      },
    });
    try {
      await container.start();
      const info = await container.inspect();
      const hostPort = Number(info.NetworkSettings.Ports[portKey]?.[0]?.HostPort);
      if (!hostPort) throw new Error("container started without a published port");
      return {
        id: info.Id,
        name,
        projectId: spec.projectId,
        environmentId: spec.environmentId,
        generation: spec.generation,
        running: info.State.Running,
        hostPort,
      };
    } catch (error) {
      await container.remove({ force: true }).catch(() => {});
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
