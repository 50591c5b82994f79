import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type ContainerSpec,
  DockerRuntime,
  type ManagedContainer,
  networkNameFor,
  VolumeInUse,
  volumeNameFor,
} from "../src/index.ts";
import { networkInRange } from "./support.ts";

const IMAGE = process.env.EDGEPLANE_TEST_BASE_IMAGE ?? "edgeplane-test/httpd:base";
const BUSYBOX = "/bin/busybox";

/** Runs `cmd` in the container; its exit code and stdout+stderr (Docker multiplexes them: 8-byte frame headers). */
async function exec(
  runtime: DockerRuntime,
  id: string,
  cmd: string[],
): Promise<{ code: number; out: string }> {
  const execution = await runtime.docker
    .getContainer(id)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await execution.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  const buffer = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let offset = 0; offset + 8 <= buffer.length; ) {
    const size = buffer.readUInt32BE(offset + 4);
    out.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return { code: (await execution.inspect()).ExitCode ?? -1, out: Buffer.concat(out).toString("utf8") };
}

/** Polls `read` until `done` holds of its value, or fails after `timeoutMs` with the last value seen. */
async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting; last value: ${JSON.stringify(value)}`);
    await sleep(200);
    value = await read();
  }
  return value;
}

// A compose-style environment on real Docker: several services on the environment's network, found
// by their service names, with Docker healthchecks, one-shot jobs, named volumes and helper containers.
describe("an environment of several services, with named volumes", () => {
  const instance = `t-svc-${randomBytes(3).toString("hex")}`;
  const environmentId = "env_5e4c1a";
  const otherEnvironmentId = "env_07e4";
  const projectId = "prj_5e4c1a";
  const runtime = new DockerRuntime({
    socketPath: process.env.DOCKER_SOCKET ?? "/var/run/docker.sock",
    instance,
  });
  const networkName = networkNameFor(instance, environmentId);
  let prefix = ""; // the subnet's first three octets
  let generation = 0;

  /** A spec of this environment; each gets its own generation, so no two share a container name. */
  function spec(overrides: Partial<ContainerSpec>): ContainerSpec {
    generation++;
    return {
      instance,
      projectId,
      projectName: "svc",
      environmentId,
      environmentName: "pr-7",
      deploymentId: "dep_5e4c1a",
      generation,
      image: IMAGE,
      containerPort: 8080,
      env: {},
      memoryBytes: 64 * 1024 * 1024,
      nanoCpus: 250_000_000,
      ...overrides,
    };
  }

  beforeAll(async () => {
    // in 10.215.0.0/16, which nothing else in the repository uses
    prefix = await networkInRange(
      runtime,
      { instance, projectId, environmentId, name: networkName },
      "10.215",
    );
  });

  afterAll(async () => {
    for (const c of await runtime.list()) await runtime.remove(c.id);
    for (const v of await runtime.listVolumes()) await runtime.removeVolume(v.name);
    for (const n of await runtime.listNetworks()) await runtime.removeNetwork(n.name);
  });

  describe("services on one network", () => {
    let api: ManagedContainer;
    let web: ManagedContainer;

    beforeAll(async () => {
      api = await runtime.start(
        spec({
          service: "api",
          env: { APP_MESSAGE: "hello from the api service" },
          network: { name: networkName, address: `${prefix}.10` },
          aliases: ["api"],
          configHash: "a1b2c3d4e5f6",
        }),
      );
      web = await runtime.start(
        spec({
          service: "web",
          env: { APP_MESSAGE: "web" },
          network: { name: networkName, address: `${prefix}.11` },
          aliases: ["web"],
          configHash: "0123456789abcdef".repeat(4),
        }),
      );
    });

    it("one service reaches another by its service name", async () => {
      const answer = await eventually(
        () => exec(runtime, web.id, [BUSYBOX, "wget", "-qO-", "http://api:8080/"]),
        (result) => result.code === 0,
      );
      expect(answer.out.trim()).toBe("hello from the api service");
      // and the name is the alias, not anything Docker would resolve anyway
      const unknown = await exec(runtime, web.id, [BUSYBOX, "wget", "-qO-", "-T", "2", "http://db:8080/"]);
      expect(unknown.code).not.toBe(0);
    });

    it("names each container for its service and labels it with its service and config", async () => {
      expect(api.name).toBe(`ep-${instance}-svc-pr-7-api-g${api.generation}`);
      expect(api.service).toBe("api");
      expect(api.configHash).toBe("a1b2c3d4e5f6");
      const labels = (await runtime.docker.getContainer(api.id).inspect()).Config.Labels;
      expect(labels["edgeplane.service"]).toBe("api");
      expect(labels["edgeplane.config"]).toBe("a1b2c3d4e5f6");
      expect(labels["edgeplane.environment"]).toBe(environmentId);

      const listed = await runtime.list({ environmentId });
      const apiListed = listed.find((c) => c.id === api.id);
      const webListed = listed.find((c) => c.id === web.id);
      expect(apiListed).toMatchObject({
        service: "api",
        configHash: "a1b2c3d4e5f6",
        state: "running",
        running: true,
        address: `${prefix}.10`,
      });
      expect(webListed).toMatchObject({
        service: "web",
        configHash: "0123456789abcdef".repeat(4),
        address: `${prefix}.11`,
      });
    });

    it("keeps the hardening of a single container", async () => {
      const host = (await runtime.docker.getContainer(api.id).inspect()).HostConfig;
      expect(host.SecurityOpt).toContain("no-new-privileges");
      expect(host.CapDrop).toEqual(["ALL"]);
      expect(host.Memory).toBe(64 * 1024 * 1024);
      expect(host.NanoCpus).toBe(250_000_000);
      expect(host.PidsLimit).toBe(512);
      expect(host.RestartPolicy?.Name).toBe("unless-stopped");
      expect(Object.values(host.PortBindings ?? {}).flat()).toEqual([]);
    });

    it("refuses unsafe service names and config hashes, and aliases without a network", async () => {
      await expect(runtime.start(spec({ service: "API" }))).rejects.toThrow(
        /unsafe label value for edgeplane.service/,
      );
      await expect(runtime.start(spec({ service: "a_b" }))).rejects.toThrow(/edgeplane.service/);
      await expect(runtime.start(spec({ configHash: "xyz" }))).rejects.toThrow(/edgeplane.config/);
      await expect(runtime.start(spec({ aliases: ["api"] }))).rejects.toThrow(/need a network/);
    });
  });

  describe("healthchecks", () => {
    const check = (url: string) => ({
      test: ["CMD", BUSYBOX, "wget", "-qO-", url],
      intervalMs: 500,
      timeoutMs: 2000,
      retries: 2,
      startPeriodMs: 0,
    });

    it("a passing check makes the container healthy, in list() and health()", async () => {
      const container = await runtime.start(
        spec({ service: "healthy", healthcheck: check("http://127.0.0.1:8080/healthz") }),
      );
      const listed = await eventually(
        async () => (await runtime.list({ environmentId })).find((c) => c.id === container.id),
        (c) => c?.health === "healthy",
      );
      expect(listed?.state).toBe("running");
      expect(await runtime.health(container.id)).toBe("healthy");
      const config = (await runtime.docker.getContainer(container.id).inspect()).Config.Healthcheck;
      expect(config?.Interval).toBe(500_000_000);
      expect(config?.Retries).toBe(2);
    });

    it("a failing check makes it unhealthy", async () => {
      const container = await runtime.start(
        spec({ service: "sick", healthcheck: check("http://127.0.0.1:8080/no-such-page") }),
      );
      expect(["starting", "unhealthy"]).toContain(await runtime.health(container.id));
      await eventually(
        async () => (await runtime.list({ environmentId })).find((c) => c.id === container.id)?.health,
        (health) => health === "unhealthy",
      );
      expect(await runtime.health(container.id)).toBe("unhealthy");
    });

    it("a container without a check has no health, and a gone one neither", async () => {
      const container = await runtime.start(spec({ service: "plain", healthcheck: null }));
      expect(container.health).toBeNull();
      expect((await runtime.list({ environmentId })).find((c) => c.id === container.id)?.health).toBeNull();
      expect(await runtime.health(container.id)).toBeNull();
      await runtime.remove(container.id);
      expect(await runtime.health(container.id)).toBeNull();
    });
  });

  it("a one-shot service runs to completion, is not restarted, and gives its exit code", async () => {
    const job = await runtime.start(
      spec({
        service: "migrate",
        oneShot: true,
        containerPort: null,
        command: [BUSYBOX, "sh", "-c", "echo done; exit 3"],
      }),
    );
    expect(
      await eventually(
        () => runtime.exitCode(job.id),
        (code) => code !== null,
      ),
    ).toBe(3);
    await sleep(1500); // long enough for a restart policy to have started it again
    const info = await runtime.docker.getContainer(job.id).inspect();
    expect(info.HostConfig.RestartPolicy?.Name).toBe("no");
    expect(info.RestartCount).toBe(0);
    expect(info.State.Status).toBe("exited");
    expect(await runtime.exitCode(job.id)).toBe(3);
    expect((await runtime.logsTail(job.id, 10)).trim()).toBe("done");
    // no port of its own: nothing added to what the image declares (its PORT=8080 and EXPOSE 8080)
    expect(info.Config.Env.filter((e) => e.startsWith("PORT="))).toEqual(["PORT=8080"]);
    const listed = (await runtime.list({ environmentId })).find((c) => c.id === job.id);
    expect(listed).toMatchObject({ state: "exited", running: false, health: null, service: "migrate" });
  });

  it("a service without a port gets no PORT and exposes nothing of its own", async () => {
    const worker = await runtime.start(
      spec({
        service: "worker",
        containerPort: null,
        env: { PORT: "9999" },
        command: [BUSYBOX, "sleep", "60"],
      }),
    );
    const info = await runtime.docker.getContainer(worker.id).inspect();
    // the caller's own PORT stays; edgeplane sets none
    expect(info.Config.Env).toContain("PORT=9999");
    expect(Object.keys(info.Config.ExposedPorts ?? {})).toEqual(["8080/tcp"]); // the image's EXPOSE only
    expect(info.Config.Cmd).toEqual([BUSYBOX, "sleep", "60"]);
  });

  it("runs a command as the given user in the given directory, with the given entrypoint", async () => {
    const container = await runtime.start(
      spec({
        service: "custom",
        containerPort: null,
        oneShot: true,
        entrypoint: [BUSYBOX, "sh", "-c"],
        command: ["pwd; /bin/busybox id -u"],
        user: "65534",
        workingDir: "/www",
      }),
    );
    expect(
      await eventually(
        () => runtime.exitCode(container.id),
        (code) => code !== null,
      ),
    ).toBe(0);
    expect(await runtime.logsTail(container.id, 10)).toBe("/www\n65534\n");
  });

  describe("named volumes", () => {
    const data = volumeNameFor(instance, environmentId, "data");
    const copy = volumeNameFor(instance, environmentId, "data.copy");

    it("are created once, labelled, and named for the instance and environment", async () => {
      expect(data).toBe(`ep-${instance}-${environmentId}-data`);
      expect(await runtime.ensureVolume({ instance, projectId, environmentId, volume: "data" })).toEqual({
        name: data,
        created: true,
      });
      expect(await runtime.ensureVolume({ instance, projectId, environmentId, volume: "data" })).toEqual({
        name: data,
        created: false,
      });
      const labels = (await runtime.docker.getVolume(data).inspect()).Labels;
      expect(labels).toMatchObject({
        "edgeplane.managed": "true",
        "edgeplane.instance": instance,
        "edgeplane.project": projectId,
        "edgeplane.environment": environmentId,
        "edgeplane.volume": "data",
      });
      await expect(
        runtime.ensureVolume({ instance, projectId, environmentId, volume: "Data/x" }),
      ).rejects.toThrow();
    });

    it("keep what one helper container wrote for the next", async () => {
      const write = await runtime.runOnce({
        instance,
        projectId,
        environmentId,
        image: IMAGE,
        command: [BUSYBOX, "sh", "-c", "echo data > /v/f"],
        mounts: [{ volume: data, target: "/v", readOnly: false }],
        timeoutMs: 20_000,
      });
      expect(write).toEqual({ exitCode: 0, output: "" });
      const read = await runtime.runOnce({
        instance,
        projectId,
        environmentId,
        image: IMAGE,
        command: [BUSYBOX, "cat", "/v/f"],
        mounts: [{ volume: data, target: "/v", readOnly: true }],
        timeoutMs: 20_000,
      });
      expect(read).toEqual({ exitCode: 0, output: "data\n" });
    });

    it("are copied from one to another by a helper", async () => {
      expect(
        (await runtime.ensureVolume({ instance, projectId, environmentId, volume: "data.copy" })).created,
      ).toBe(true);
      const copied = await runtime.runOnce({
        instance,
        projectId,
        environmentId,
        image: IMAGE,
        command: [BUSYBOX, "sh", "-c", "/bin/busybox cp -a /from/. /to/ && /bin/busybox cat /to/f"],
        mounts: [
          { volume: data, target: "/from", readOnly: true },
          { volume: copy, target: "/to", readOnly: false },
        ],
        timeoutMs: 20_000,
      });
      expect(copied).toEqual({ exitCode: 0, output: "data\n" });
      const listed = await runtime.listVolumes({ environmentId });
      expect(listed.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: data, environmentId, volume: "data" },
        { name: copy, environmentId, volume: "data.copy" },
      ]);
      expect(await runtime.listVolumes({ environmentId: otherEnvironmentId })).toEqual([]);
    });

    it("are mounted into a service as volumes, read-only when asked", async () => {
      const reader = await runtime.start(
        spec({
          service: "reader",
          containerPort: null,
          command: [BUSYBOX, "sleep", "60"],
          mounts: [
            { volume: data, target: "/data", readOnly: true },
            { volume: copy, target: "/scratch", readOnly: false },
          ],
        }),
      );
      const info = await runtime.docker.getContainer(reader.id).inspect();
      expect(info.HostConfig.Binds ?? []).toEqual([]);
      expect(
        info.Mounts.map((m) => ({ type: m.Type, name: m.Name, to: m.Destination, rw: m.RW })).sort((a, b) =>
          a.to.localeCompare(b.to),
        ),
      ).toEqual([
        { type: "volume", name: data, to: "/data", rw: false },
        { type: "volume", name: copy, to: "/scratch", rw: true },
      ]);
      expect((await exec(runtime, reader.id, [BUSYBOX, "cat", "/data/f"])).out).toBe("data\n");
      expect((await exec(runtime, reader.id, [BUSYBOX, "sh", "-c", "echo x > /data/g"])).code).not.toBe(0);
      expect((await exec(runtime, reader.id, [BUSYBOX, "sh", "-c", "echo x > /scratch/g"])).code).toBe(0);

      // in use: not removed, and said so
      await expect(runtime.removeVolume(data)).rejects.toBeInstanceOf(VolumeInUse);
      expect((await runtime.listVolumes({ environmentId })).map((v) => v.name)).toContain(data);
      await runtime.remove(reader.id);
    });

    it("refuses, before Docker is asked anything, a volume of another environment or instance", async () => {
      const foreign = [
        volumeNameFor(instance, otherEnvironmentId, "data"),
        volumeNameFor(`${instance}x`, environmentId, "data"),
        "/etc",
        "pgdata",
        `ep-${instance}-${environmentId}-A/x`,
      ];
      const dial = vi.spyOn(runtime.docker.modem, "dial");
      try {
        for (const volume of foreign) {
          const mounts = [{ volume, target: "/v", readOnly: false }];
          await expect(runtime.start(spec({ service: "thief", mounts }))).rejects.toThrow(
            /refusing to mount/,
          );
          await expect(
            runtime.runOnce({
              instance,
              projectId,
              environmentId,
              image: IMAGE,
              command: [BUSYBOX, "true"],
              mounts,
              timeoutMs: 5000,
            }),
          ).rejects.toThrow(/refusing to mount/);
        }
        await expect(
          runtime.start(
            spec({ service: "thief", mounts: [{ volume: data, target: "relative", readOnly: true }] }),
          ),
        ).rejects.toThrow(/absolute/);
        expect(dial).not.toHaveBeenCalled();
      } finally {
        dial.mockRestore();
      }
      // a volume of the right form that edgeplane did not create is refused too (Docker is asked, nothing made)
      await expect(
        runtime.start(
          spec({
            service: "thief",
            mounts: [
              { volume: volumeNameFor(instance, environmentId, "never"), target: "/v", readOnly: false },
            ],
          }),
        ),
      ).rejects.toThrow(/does not exist/);
      await expect(
        runtime.docker.getVolume(volumeNameFor(instance, environmentId, "never")).inspect(),
      ).rejects.toMatchObject({ statusCode: 404 });
      expect((await runtime.list({ environmentId })).map((c) => c.service)).not.toContain("thief");
    });

    it("are removed, idempotently", async () => {
      await runtime.removeVolume(copy);
      expect((await runtime.listVolumes({ environmentId })).map((v) => v.name)).toEqual([data]);
      await expect(runtime.docker.getVolume(copy).inspect()).rejects.toMatchObject({ statusCode: 404 });
      await runtime.removeVolume(copy);
      await runtime.removeVolume(`ep-${instance}-${environmentId}-never-existed`);
    });
  });

  describe("helper containers", () => {
    it("run without network, privileges or spare capabilities, and give exit code and output", async () => {
      const result = await runtime.runOnce({
        instance,
        projectId,
        environmentId,
        image: IMAGE,
        command: [
          BUSYBOX,
          "sh",
          "-c",
          "/bin/busybox ls /sys/class/net; /bin/busybox grep -E '^(NoNewPrivs|CapEff)' /proc/1/status; echo oops >&2; exit 7",
        ],
        mounts: [],
        timeoutMs: 20_000,
      });
      expect(result.exitCode).toBe(7);
      // CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, SETGID 6, SETUID 7, NET_BIND_SERVICE 10: 0x4cb
      // stdout and stderr arrive as two streams: their lines interleave in no fixed order
      expect(result.output.split("\n").sort()).toEqual(
        ["", "CapEff:\t00000000000004cb", "NoNewPrivs:\t1", "lo", "oops"].sort(),
      );
    });

    it("are labelled as the environment's while they run, and removed after", async () => {
      const running = runtime.runOnce({
        instance,
        projectId,
        environmentId,
        image: IMAGE,
        command: [BUSYBOX, "sleep", "3"],
        mounts: [],
        timeoutMs: 20_000,
      });
      const helper = await eventually(
        async () => (await runtime.list({ environmentId })).find((c) => c.name.includes("-once-")),
        (c) => c !== undefined,
      );
      expect(helper).toMatchObject({ projectId, environmentId, service: null });
      expect((await running).exitCode).toBe(0);
      expect((await runtime.list()).filter((c) => c.name.includes("-once-"))).toEqual([]);
    });

    it("keep only the tail of a long output", async () => {
      const result = await runtime.runOnce({
        instance,
        projectId,
        environmentId,
        image: IMAGE,
        command: [BUSYBOX, "sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done"],
        mounts: [],
        timeoutMs: 20_000,
      });
      expect(result.exitCode).toBe(0);
      expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(4096);
      expect(result.output.endsWith("line-1998\nline-1999\n")).toBe(true);
      expect(result.output).not.toContain("line-1000\n");
    });

    it("are stopped and removed when they outlive their timeout", async () => {
      const started = Date.now();
      await expect(
        runtime.runOnce({
          instance,
          projectId,
          environmentId,
          image: IMAGE,
          command: [BUSYBOX, "sleep", "30"],
          mounts: [],
          timeoutMs: 1500,
        }),
      ).rejects.toThrow(/did not finish within 1500 ms/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await runtime.list()).filter((c) => c.name.includes("-once-"))).toEqual([]);
    });
  });

  describe("pause and unpause", () => {
    it("freeze and thaw a container, idempotently", async () => {
      const container = await runtime.start(spec({ service: "sleepy" }));
      const state = async () => (await runtime.list({ environmentId })).find((c) => c.id === container.id);
      await runtime.pause(container.id);
      expect(await state()).toMatchObject({ state: "paused", running: false });
      await runtime.pause(container.id);
      expect((await state())?.state).toBe("paused");
      await runtime.unpause(container.id);
      expect(await state()).toMatchObject({ state: "running", running: true });
      await runtime.unpause(container.id);
      expect((await state())?.state).toBe("running");
    });

    it("refuse a container edgeplane did not create", async () => {
      const plain = await runtime.docker.createContainer({
        Image: IMAGE,
        Labels: { "edgeplane.test": instance },
        HostConfig: { NetworkMode: "none" },
      });
      try {
        await plain.start();
        await expect(runtime.pause(plain.id)).rejects.toThrow(/not managed by this edgeplane/);
        expect((await plain.inspect()).State.Paused).toBe(false);
        await expect(runtime.unpause(plain.id)).rejects.toThrow(/not managed by this edgeplane/);
      } finally {
        await plain.remove({ force: true });
      }
    });
  });
});
