import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { environmentNetworks, networkSpares } from "@edgeplane/db";
import { createLogger } from "@edgeplane/log";
import { createProducer, createRedis, createSigner, generateSigningKey } from "@edgeplane/queue";
import { DockerRuntime, networkNameFor } from "@edgeplane/runtime";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refillSpares } from "../src/network.ts";
import { sweep } from "../src/steps/sweep.ts";
import { projectDatabase } from "./support.ts";

const instance = `t${randomBytes(4).toString("hex")}`;
const docker = new Docker();

// Spare networks: made ahead under ids new environments take, so an environment's first container
// starts without waiting for Docker to set its network up.
describe("spare environment networks", () => {
  let base: Awaited<ReturnType<typeof projectDatabase>>;
  const runtime = new DockerRuntime({ socketPath: "/var/run/docker.sock", instance });
  const pool = { cidr: "10.217.0.0/16", prefix: 27 };
  const deps = () => ({ db: base.db.db, sql: base.db.sql, runtime, instance, pool });

  const spareIds = async () =>
    (await base.db.db.select().from(networkSpares).orderBy(networkSpares.createdAt)).map(
      (s) => s.environmentId,
    );
  const holdersOf = (environmentId: string) =>
    docker.listContainers({
      filters: { label: [`edgeplane.netns-holder=${instance}`, `edgeplane.environment=${environmentId}`] },
    });
  const deploy = (environment: string) => base.deploy(environment);

  beforeAll(async () => {
    base = await projectDatabase("spares");
  });
  afterAll(async () => {
    for (const n of await runtime.listNetworks()) await runtime.removeNetwork(n.name);
    await base?.close();
  });

  it("are made with a network and two running holders each, and a new environment takes the oldest as its id", async () => {
    expect(await refillSpares(deps(), 2)).toBe(2);
    const [first, second, ...more] = await spareIds();
    expect(more).toEqual([]);
    for (const id of [first, second]) {
      const networks = await docker.listNetworks({ filters: { name: [networkNameFor(instance, id ?? "")] } });
      expect(networks).toHaveLength(1);
      // two starts readied: its first deploy's, and a redeploy's right after
      expect((await holdersOf(id ?? "")).map((h) => h.State)).toEqual(["running", "running"]);
    }
    expect(await refillSpares(deps(), 2)).toBe(0); // full

    const { env } = await deploy("pr-1");
    expect(env.id).toBe(first);
    const { env: next } = await deploy("pr-2");
    expect(next.id).toBe(second);
    const { env: third } = await deploy("pr-3"); // none left: an id of its own
    expect([first, second]).not.toContain(third.id);
    // a redeploy keeps its environment's id and takes nothing
    expect(await refillSpares(deps(), 1)).toBe(1);
    const [left] = await spareIds();
    expect((await deploy("pr-1")).env.id).toBe(first);
    expect(await spareIds()).toEqual([left]);
  });

  it("two environments created at once never take the same spare", async () => {
    await refillSpares(deps(), 3);
    const spares = await spareIds();
    const created = await Promise.all(["pr-10", "pr-11", "pr-12"].map((name) => deploy(name)));
    const ids = created.map((c) => c.env.id);
    expect(new Set(ids).size).toBe(3);
    expect([...ids].sort()).toEqual([...spares].sort());
  });

  it("refills asked for at once make what is wanted, one at a time, without starving each other", async () => {
    // the last test's environments took every spare there was: all five are made here
    // more at once than the pool has connections: each waiting on the lock would hold one
    const made = await Promise.all(Array.from({ length: 12 }, () => refillSpares(deps(), 5)));
    expect(await spareIds()).toHaveLength(5);
    expect(made.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it("are not orphans to a sweep that runs while they are made", async () => {
    const redis = createRedis("redis://127.0.0.1:6379");
    const producer = createProducer({
      connection: redis,
      prefix: `spares-${instance}`,
      signer: createSigner(generateSigningKey().privateKey),
    });
    const sweepDeps = {
      ...deps(),
      producer,
      log: createLogger("spares-test", "silent"),
      stuckAfterMs: 60_000,
    };
    try {
      for (let round = 0; round < 3; round++) {
        await deploy(`pr-sweep-${round}`); // takes a spare: the refill below makes one again
        const before = (await runtime.listNetworks()).length;
        const refill = refillSpares(deps(), 5);
        // the new spare's network is there, its holders starting, its row not written yet
        while ((await runtime.listNetworks()).length === before) await sleep(5);
        await sweep(sweepDeps);
        await refill;
      }
      const spares = await spareIds();
      expect(spares).toHaveLength(5);
      const recorded = new Set(
        (await base.db.db.select().from(environmentNetworks)).map((n) => n.environmentId),
      );
      for (const id of spares) {
        // every spare still has its network, its subnet and its holders
        const networks = await docker.listNetworks({ filters: { name: [networkNameFor(instance, id)] } });
        expect(networks, id).toHaveLength(1);
        expect(recorded.has(id), id).toBe(true);
        expect(await holdersOf(id), id).toHaveLength(2);
      }
    } finally {
      await producer.close();
      redis.disconnect();
    }
  });

  it("makes none when none are wanted", async () => {
    expect(await refillSpares(deps(), 0)).toBe(0);
  });
});
