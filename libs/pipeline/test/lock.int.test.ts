import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createDb, dropDatabase, ensureDatabase } from "@edgeplane/db";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LockLost, withAdvisoryLock } from "../src/lock.ts";

const url = `postgres://postgres@127.0.0.1:5432/edgeplane_lock_${randomBytes(4).toString("hex")}`;

// A step holds its environment's lock through an open transaction. When Postgres kills the session
// holding it (here: pg_terminate_backend, as a restart or a network cut would), another process may
// take the lock at once, so the first holder must stop before its next side effect.
describe("an advisory lock whose session is lost", () => {
  let holder: ReturnType<typeof createDb>;
  let contender: ReturnType<typeof createDb>;
  let admin: postgres.Sql;
  beforeAll(async () => {
    await ensureDatabase(url);
    holder = createDb(url, { max: 3 });
    contender = createDb(url, { max: 3 });
    admin = postgres(url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await holder?.close();
    await contender?.close();
    await admin?.end();
    await dropDatabase(url);
  });

  /** The backend pid holding an advisory lock, as Postgres sees it. */
  async function lockHolderPid(): Promise<number | undefined> {
    const rows = await admin<{ pid: number }[]>`
      select pid from pg_locks where locktype = 'advisory' and granted and database = (
        select oid from pg_database where datname = current_database())`;
    return rows[0]?.pid;
  }

  it("tells the holder at once, stops its next side effect and fails its step, while another takes the lock", async () => {
    const key = `reconcile:env_${randomBytes(4).toString("hex")}`;
    const timeline: string[] = [];
    let terminated!: () => void;
    const afterTermination = new Promise<void>((resolve) => {
      terminated = resolve;
    });

    const first = withAdvisoryLock(holder.sql, key, async (lock) => {
      timeline.push("first: holds the lock");
      await afterTermination;
      // give the client the moment it takes to see its connection gone
      const deadline = Date.now() + 5_000;
      while (!lock.signal.aborted && Date.now() < deadline) await sleep(10);
      try {
        lock.assertHeld();
        timeline.push("first: side effect after losing the lock");
      } catch (error) {
        timeline.push(`first: stopped (${(error as Error).name})`);
      }
      return "finished";
    });

    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      pid = await lockHolderPid();
      if (pid === undefined) await sleep(20);
    }
    expect(pid).toBeDefined();

    const second = withAdvisoryLock(contender.sql, key, async (lock) => {
      timeline.push("second: holds the lock");
      lock.assertHeld();
      return "second done";
    });

    await admin`select pg_terminate_backend(${pid as number})`;
    terminated();

    // the step's own promise fails with LockLost even though its function returned normally
    await expect(first).rejects.toBeInstanceOf(LockLost);
    expect(await second).toBe("second done");
    expect(timeline[0]).toBe("first: holds the lock");
    expect(timeline).toContain("first: stopped (LockLost)");
    // whoever holds the lock next, the first holder made no change after it lost it
    expect(timeline).not.toContain("first: side effect after losing the lock");
    expect(timeline).toContain("second: holds the lock");
  });

  it("a lock held to the end is released normally, and the next holder gets it", async () => {
    const key = `reconcile:env_${randomBytes(4).toString("hex")}`;
    const order: string[] = [];
    let aIn!: () => void;
    const aHolds = new Promise<void>((resolve) => {
      aIn = resolve;
    });
    const a = withAdvisoryLock(holder.sql, key, async (lock) => {
      order.push("a in");
      aIn();
      await sleep(200);
      lock.assertHeld();
      order.push("a out");
      return 1;
    });
    await aHolds;
    const b = withAdvisoryLock(contender.sql, key, async () => {
      order.push("b in");
      return 2;
    });
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(order).toEqual(["a in", "a out", "b in"]);
  });

  it("waiters never hold every connection while the holder needs one for a lock inside its lock", async () => {
    // one pool of three connections, as a worker's lock sessions share one: the holder of an
    // environment's lock, five jobs waiting for it, and the holder's lock inside its lock
    const shared = createDb(url, { max: 3 });
    try {
      const env = `reconcile:env_${randomBytes(4).toString("hex")}`;
      const network = `network:env_${randomBytes(4).toString("hex")}`;
      const order: string[] = [];
      let holding!: () => void;
      const holds = new Promise<void>((resolve) => {
        holding = resolve;
      });
      let waitersQueued!: () => void;
      const queued = new Promise<void>((resolve) => {
        waitersQueued = resolve;
      });
      const first = withAdvisoryLock(shared.sql, env, async () => {
        order.push("holder in");
        holding();
        await queued;
        await sleep(300); // the waiters have taken every other connection of the pool by now
        const inner = await withAdvisoryLock(shared.sql, network, async () => "inner");
        order.push(`holder's ${inner} lock`);
        return "holder";
      });
      await holds;
      const waiters = Array.from({ length: 5 }, (_, i) =>
        withAdvisoryLock(shared.sql, env, async () => {
          order.push("waiter");
          return i;
        }),
      );
      waitersQueued();
      expect(await first).toBe("holder");
      expect((await Promise.all(waiters)).sort()).toEqual([0, 1, 2, 3, 4]);
      expect(order.slice(0, 2)).toEqual(["holder in", "holder's inner lock"]);
      expect(order.filter((o) => o === "waiter")).toHaveLength(5);
    } finally {
      await shared.close();
    }
  }, 20_000); // a deadlock would wait forever
});
