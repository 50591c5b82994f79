import { randomBytes } from "node:crypto";
import { DockerRuntime, networkNameFor } from "@edgeplane/runtime";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureEnvironmentNetwork } from "../src/network.ts";
import { projectDatabase } from "./support.ts";

const instance = `t${randomBytes(4).toString("hex")}`;
const docker = new Docker();

// Staging makes an environment's network ahead of reconcile, and two workers (on two machines) may
// stage deploys of one environment at once: asked at the same moment, Docker makes two networks of
// one name, and every later lookup by that name fails as ambiguous.
describe("an environment's network made by several workers at once", () => {
  let base: Awaited<ReturnType<typeof projectDatabase>>;
  const runtime = new DockerRuntime({ socketPath: "/var/run/docker.sock", instance });
  const pool = { cidr: "10.219.0.0/16", prefix: 27 };

  beforeAll(async () => {
    base = await projectDatabase("net");
  });
  afterAll(async () => {
    const ours = await docker.listNetworks({ filters: { label: [`edgeplane.instance=${instance}`] } });
    for (const n of ours)
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {});
    await base?.close();
  });

  it("ends with one network of its name, the same subnet for every caller", async () => {
    const { env } = await base.deploy("pr-1");
    const deps = { db: base.db.db, sql: base.db.sql, runtime, instance, pool };
    const made = await Promise.all(Array.from({ length: 6 }, () => ensureEnvironmentNetwork(deps, env)));
    expect(new Set(made.map((m) => m.subnet)).size).toBe(1);
    const named = await docker.listNetworks({ filters: { name: [networkNameFor(instance, env.id)] } });
    expect(named).toHaveLength(1);
    expect(named[0]?.IPAM?.Config?.[0]?.Subnet).toBe(made[0]?.subnet);
  });
});
