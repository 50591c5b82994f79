import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDb,
  dropDatabase,
  ensureDatabase,
  isUnavailable,
  pipelinedTransaction,
  sql,
} from "../src/index.ts";

const url = `postgres://postgres@127.0.0.1:5432/edgeplane_reserve_${randomBytes(4).toString("hex")}`;

// A connection lost while a transaction holds it and another waits for it (Postgres restarting,
// the backend terminated). The driver (postgres.js 3.4.9) may hand the waiting one to the lost
// connection's reconnection, and the holder's next statements go to that same reconnected
// connection: its COMMIT in the other's transaction, whose own statements then never answer.
// Here the holder is refused and sends nothing more; the waiting one is served by the pool that
// replaces the lost one; and nothing hangs.
describe("a connection lost while one transaction holds it and another waits for it", () => {
  let db: ReturnType<typeof createDb>;
  let admin: postgres.Sql;

  beforeAll(async () => {
    await ensureDatabase(url);
    db = createDb(url, { max: 1 });
    admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin`create table marks (name text primary key)`;
  });
  afterAll(async () => {
    await db?.close();
    await admin?.end({ timeout: 5 });
    await dropDatabase(url);
  });

  const marks = async () =>
    (await admin<{ name: string }[]>`select name from marks order by name`).map((r) => r.name);

  /** The pool's one connection, held by a transaction until `release`; resolves its backend's pid. */
  function hold(name: string, during: "waiting" | "statement") {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started!: (pid: number) => void;
    const pid = new Promise<number>((resolve) => {
      started = resolve;
    });
    const done = pipelinedTransaction(db.db, async (tx) => {
      const [row] = await tx.send(sql`select pg_backend_pid() as pid`);
      started(Number(row?.pid));
      if (during === "statement") await tx.send(sql`select pg_sleep(10)`);
      else await gate;
      await tx.send(sql`insert into marks (name) values (${name})`);
    });
    done.catch(() => {});
    return { pid, release, done };
  }

  const answer = (n: number) =>
    pipelinedTransaction(db.db, async (tx) => {
      const [row] = await tx.send(sql`select ${n}::int + 1 as answer`);
      return Number(row?.answer);
    });

  for (const during of ["waiting", "statement"] as const) {
    it(`with the holder ${during === "waiting" ? "between statements" : "in a statement"}: it is refused, the waiting one served`, async () => {
      const holder = hold(`holder-${during}`, during);
      const backend = await holder.pid;
      const waiting = answer(41);
      await sleep(100);
      await admin`select pg_terminate_backend(${backend})`;
      await sleep(200);
      holder.release();

      // the holder wrote nothing, and says so as a loss of Postgres (a caller retries)
      const refusal = await holder.done.then(
        () => null,
        (error: unknown) => error,
      );
      expect(refusal).not.toBeNull();
      expect(isUnavailable(refusal)).toBe(true);
      expect(await waiting).toBe(42);
      expect(await answer(1)).toBe(2);
      expect(await marks()).not.toContain(`holder-${during}`);
      await sleep(1100); // past the pool's once-a-second replacement
    }, 30_000);
  }
});
