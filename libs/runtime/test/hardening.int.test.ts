import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerRuntime, type ManagedContainer } from "../src/index.ts";

const IMAGE = process.env.EDGEPLANE_TEST_BASE_IMAGE ?? "edgeplane-test/httpd:base";

/** The kernel's capability numbers (include/uapi/linux/capability.h). */
const CAPABILITY_NUMBERS: Record<string, number> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  DAC_READ_SEARCH: 2,
  FOWNER: 3,
  FSETID: 4,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  SETPCAP: 8,
  LINUX_IMMUTABLE: 9,
  NET_BIND_SERVICE: 10,
  NET_BROADCAST: 11,
  NET_ADMIN: 12,
  NET_RAW: 13,
  IPC_LOCK: 14,
  IPC_OWNER: 15,
  SYS_MODULE: 16,
  SYS_RAWIO: 17,
  SYS_CHROOT: 18,
  SYS_PTRACE: 19,
  SYS_PACCT: 20,
  SYS_ADMIN: 21,
  SYS_BOOT: 22,
  SYS_NICE: 23,
  SYS_RESOURCE: 24,
  SYS_TIME: 25,
  SYS_TTY_CONFIG: 26,
  MKNOD: 27,
  LEASE: 28,
  AUDIT_WRITE: 29,
  AUDIT_CONTROL: 30,
  SETFCAP: 31,
  MAC_OVERRIDE: 32,
  MAC_ADMIN: 33,
  SYSLOG: 34,
  WAKE_ALARM: 35,
  BLOCK_SUSPEND: 36,
  AUDIT_READ: 37,
  PERFMON: 38,
  BPF: 39,
  CHECKPOINT_RESTORE: 40,
};

/** The capabilities a `/proc/<pid>/status` line (`CapEff:`, `CapBnd:`, ...) holds, by name; unknown bits as `bit<n>`. */
function capabilities(status: string, field: "CapEff" | "CapPrm" | "CapBnd"): string[] {
  const hex = status.match(new RegExp(`^${field}:\\s+([0-9a-f]{16})$`, "m"))?.[1];
  if (hex === undefined) throw new Error(`no ${field} line in:\n${status}`);
  const bits = BigInt(`0x${hex}`);
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (((bits >> BigInt(bit)) & 1n) === 0n) continue;
    const name = Object.entries(CAPABILITY_NUMBERS).find(([, n]) => n === bit)?.[0];
    names.push(name ?? `bit${bit}`);
  }
  return names.sort();
}

/**
 * What the sandbox may keep (README, "Containers"): what an ordinary web process needs to bind a low
 * port, switch to its own user and own its files. Everything else Docker grants by default (FSETID,
 * KILL, SETPCAP, NET_RAW, MKNOD, SYS_CHROOT, AUDIT_WRITE, SETFCAP) must be gone, and so must every
 * capability Docker never grants.
 */
const ALLOWED = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "NET_BIND_SERVICE", "SETGID", "SETUID"];
/** Some of Docker's default capabilities (moby's oci/caps defaults) that the sandbox must not keep. */
const DOCKER_DEFAULTS_DROPPED = ["FSETID", "KILL", "SETFCAP", "SETPCAP"];
/** The pid limit edgeplane configures for every container. */
const PIDS_LIMIT = 512;

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

  /** `/proc/1/status` of a container of `IMAGE` run by plain Docker with `hostConfig`, then removed. */
  async function statusOfPlainContainer(hostConfig: Record<string, unknown> = {}): Promise<string> {
    const plain = await runtime.docker.createContainer({
      Image: IMAGE,
      Labels: { "edgeplane.test": instance },
      // no network: capabilities do not depend on it, and the host's default bridge may be absent
      HostConfig: { NetworkMode: "none", ...hostConfig },
    });
    try {
      await plain.start();
      return await exec(runtime, plain.id, ["cat", "/proc/1/status"]);
    } finally {
      await plain.remove({ force: true });
    }
  }

  it("is configured with no-new-privileges, dropped capabilities and the project's limits", async () => {
    const info = await runtime.docker.getContainer(container.id).inspect();
    const host = info.HostConfig;
    expect(host.Privileged).toBe(false);
    expect(host.SecurityOpt).toContain("no-new-privileges");
    expect(host.CapDrop).toEqual(["ALL"]);
    for (const cap of host.CapAdd ?? []) expect(ALLOWED).toContain(cap.replace(/^CAP_/, ""));
    expect(host.Memory).toBe(64 * 1024 * 1024);
    expect(host.NanoCpus).toBe(250_000_000);
    expect(host.PidsLimit).toBe(PIDS_LIMIT);
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

  it("publishes nothing on the host, and joins no network but the one it is given", async () => {
    const info = await runtime.docker.getContainer(container.id).inspect();
    expect(Object.values(info.HostConfig.PortBindings ?? {}).flat()).toEqual([]);
    expect(info.HostConfig.PublishAllPorts).toBe(false);
    // started here without an environment network: it has none, not Docker's default bridge
    expect(info.HostConfig.NetworkMode).toBe("none");
    expect(Object.keys(info.NetworkSettings.Networks ?? {})).not.toContain("bridge");
  });

  it("the capability check sees what plain Docker grants: the defaults, not the sandbox's set", async () => {
    // the same image and decoding, without edgeplane's hardening: this is what the sandbox must not be
    const status = await statusOfPlainContainer();
    expect(status).toMatch(/^Uid:\s+0\s/m);
    expect(capabilities(status, "CapEff")).toEqual(
      expect.arrayContaining([...ALLOWED, ...DOCKER_DEFAULTS_DROPPED]),
    );
    // and a capability added by hand shows up
    expect(capabilities(await statusOfPlainContainer({ CapAdd: ["SYS_ADMIN"] }), "CapEff")).toContain(
      "SYS_ADMIN",
    );
  });

  it("the kernel agrees: NoNewPrivs set, effective and bounding capabilities only the allowed ones", async () => {
    const status = await exec(runtime, container.id, ["cat", "/proc/1/status"]);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    // the server runs as root inside, so its effective set is everything its bounding set lets it keep
    expect(status).toMatch(/^Uid:\s+0\s/m);
    for (const field of ["CapEff", "CapPrm", "CapBnd"] as const) {
      const held = capabilities(status, field);
      expect(
        held.filter((cap) => !ALLOWED.includes(cap)),
        `${field} beyond the allowed set`,
      ).toEqual([]);
    }
    expect(capabilities(status, "CapEff")).toEqual(ALLOWED);
    // the pid limit is the cgroup's
    const pids = await exec(runtime, container.id, [
      "sh",
      "-c",
      "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max",
    ]);
    expect(pids.trim()).toBe(String(PIDS_LIMIT));
    // the memory limit is the cgroup's
    const limit = await exec(runtime, container.id, [
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]);
    expect(Number(limit.trim())).toBe(64 * 1024 * 1024);
  });
});
