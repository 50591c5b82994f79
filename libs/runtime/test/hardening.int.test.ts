import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerRuntime, type ManagedContainer } from "../src/index.ts";

const IMAGE = process.env.EDGEPLANE_TEST_BASE_IMAGE ?? "edgeplane-test/httpd:base";

/** Runs `cmd` in the container and returns its stdout (Docker multiplexes the stream: 8-byte frame headers). */
async function exec(runtime: DockerRuntime, id: string, cmd: string[]): Promise<string> {
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
    if (buffer[offset] === 1) out.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(out).toString("utf8");
}

// A real container started the way reconcile starts one, inspected as Docker and the kernel see it:
// no privileges to gain, a minimal capability set, the project's memory and CPU limits, published
// on loopback only, nothing of the host mounted, no Docker socket.
describe("containers run without privileges", () => {
  const instance = `t-hard-${randomBytes(3).toString("hex")}`;
  const runtime = new DockerRuntime({
    socketPath: process.env.DOCKER_SOCKET ?? "/var/run/docker.sock",
    instance,
  });
  let container: ManagedContainer;

  beforeAll(async () => {
    container = await runtime.start({
      instance,
      projectId: "prj_0a1b2c",
      projectName: "hard",
      environmentId: "env_0a1b2c",
      environmentName: "pr-1",
      deploymentId: "dep_0a1b2c",
      generation: 1,
      image: IMAGE,
      containerPort: 8080,
      env: { APP_MESSAGE: "hardened" },
      memoryBytes: 64 * 1024 * 1024,
      nanoCpus: 250_000_000,
    });
  });

  afterAll(async () => {
    for (const c of await runtime.list()) await runtime.remove(c.id);
  });

  it("is configured with no-new-privileges, dropped capabilities and the project's limits", async () => {
    const info = await runtime.docker.getContainer(container.id).inspect();
    const host = info.HostConfig;
    expect(host.Privileged).toBe(false);
    expect(host.SecurityOpt).toContain("no-new-privileges");
    expect(host.CapDrop).toEqual(["ALL"]);
    const dangerous = [
      "SYS_ADMIN",
      "NET_ADMIN",
      "SYS_PTRACE",
      "SYS_MODULE",
      "NET_RAW",
      "MKNOD",
      "SYS_CHROOT",
      "AUDIT_WRITE",
    ];
    for (const cap of host.CapAdd ?? []) expect(dangerous).not.toContain(cap.replace(/^CAP_/, ""));
    expect(host.Memory).toBe(64 * 1024 * 1024);
    expect(host.NanoCpus).toBe(250_000_000);
    expect(host.PidsLimit).toBeGreaterThan(0);
    expect(host.NetworkMode).not.toBe("host");
    expect(host.PidMode ?? "").not.toBe("host");
    expect(host.IpcMode ?? "").not.toBe("host");
    // the test image writes its page at start, so the root filesystem stays writable (see README)
    expect(host.ReadonlyRootfs).toBe(false);
  });

  it("mounts nothing of the host and never the Docker socket", async () => {
    const info = await runtime.docker.getContainer(container.id).inspect();
    expect(info.HostConfig.Binds ?? []).toEqual([]);
    expect(info.Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    expect(JSON.stringify(info)).not.toContain("docker.sock");
    expect(
      await exec(runtime, container.id, ["sh", "-c", "ls /var/run/docker.sock /run/docker.sock 2>&1; true"]),
    ).toMatch(/No such file/);
  });

  it("publishes its port on loopback only", async () => {
    const info = await runtime.docker.getContainer(container.id).inspect();
    const bindings = Object.values(info.HostConfig.PortBindings ?? {}).flat() as Array<{ HostIp: string }>;
    expect(bindings.length).toBeGreaterThan(0);
    for (const binding of bindings) expect(binding.HostIp).toBe("127.0.0.1");
  });

  it("the kernel agrees: NoNewPrivs set, only the kept capabilities in the bounding set", async () => {
    const status = await exec(runtime, container.id, ["cat", "/proc/1/status"]);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    const bounding = BigInt(`0x${status.match(/^CapBnd:\s+([0-9a-f]+)$/m)?.[1] ?? "ffffffffffffffff"}`);
    const CAP_SYS_ADMIN = 21n;
    const CAP_NET_ADMIN = 12n;
    const CAP_SYS_PTRACE = 19n;
    const CAP_NET_RAW = 13n;
    for (const cap of [CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_NET_RAW])
      expect((bounding >> cap) & 1n).toBe(0n);
    // the memory limit is the cgroup's
    const limit = await exec(runtime, container.id, [
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]);
    expect(Number(limit.trim())).toBe(64 * 1024 * 1024);
  });
});
