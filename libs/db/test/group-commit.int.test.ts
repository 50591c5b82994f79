import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, dropDatabase, ensureDatabase, GroupCommit } from "../src/index.ts";

const url = `postgres://postgres@127.0.0.1:5432/edgeplane_group_${randomBytes(4).toString("hex")}`;

// Writes that arrive while one is committing share the next transaction; a failing write fails
// alone, its neighbours committed all the same.
describe("GroupCommit", () => {
  let db: ReturnType<typeof createDb>;
  let reader: postgres.Sql;

  beforeAll(async () => {
    await ensureDatabase(url);
    reader = postgres(url, { max: 1, onnotice: () => {} });
    await reader`create table notes (id integer primary key, body text not null)`;
    db = createDb(url, { max: 8 });
  });
  afterAll(async () => {
    await db?.close();
    await reader?.end();
    await dropDatabase(url);
  });

  /** Inserts a note, as a group-committed write; resolves to the id of the transaction that wrote it. */
  const insert = (group: GroupCommit, note: { id: number; body: string }, exclusive = false) =>
    group.run(
      [`note/${note.id % 10}`],
      async (tx) => {
        const [[row]] = await Promise.all([
          tx.send(
            sql`insert into notes (id, body) values (${note.id}, ${note.body}) returning txid_current()::text as tx`,
          ),
          tx.commit(),
        ]);
        return String(row?.tx);
      },
      { exclusive },
    );

  it("commits writes that arrive together in fewer transactions, each awaited until committed", async () => {
    const group = new GroupCommit(db.db);
    const ids = Array.from({ length: 40 }, (_, i) => 100 + i);
    const txids = await Promise.all(ids.map((id) => insert(group, { id, body: `note ${id}` })));

    const rows = await reader<{ id: number }[]>`select id from notes where id >= 100 order by id`;
    expect(rows.map((r) => r.id)).toEqual(ids);
    // arrived in one tick: one transaction
    expect(new Set(txids).size).toBe(1);

    // one at a time: a transaction each, as without group commit
    const one = await insert(group, { id: 150, body: "alone" });
    const two = await insert(group, { id: 151, body: "alone" });
    expect(one).not.toBe(two);
    expect(txids).not.toContain(one);
  });

  it("spreads writes of different keys that arrive together over several transactions on their own backends", async () => {
    // four connections open and idle, so each batch finds one of its own at once
    const held = await Promise.all(Array.from({ length: 4 }, () => db.sql.reserve()));
    for (const connection of held) connection.release();
    const group = new GroupCommit(db.db);
    const ids = Array.from({ length: 40 }, (_, i) => 500 + i);
    const written = await Promise.all(
      ids.map((id) =>
        group.run([`spread/${id}`], async (tx) => {
          const [[row]] = await Promise.all([
            tx.send(
              sql`insert into notes (id, body) values (${id}, 'spread') returning txid_current()::text as tx, pg_backend_pid() as pid`,
            ),
            tx.commit(),
          ]);
          return { tx: String(row?.tx), pid: Number(row?.pid) };
        }),
      ),
    );

    const rows = await reader<{ id: number }[]>`select id from notes where body = 'spread' order by id`;
    expect(rows.map((r) => r.id)).toEqual(ids);
    // neither one transaction for all (one backend running all of them in turn) nor one each
    const transactions = new Set(written.map((w) => w.tx));
    expect(transactions.size).toBeGreaterThan(1);
    expect(transactions.size).toBeLessThanOrEqual(4);
    // the batches went side by side, each on a connection of its own
    expect(new Set(written.map((w) => w.pid)).size).toBe(transactions.size);
  });

  it("lets a write of another key go while a batch waits on a row, and holds back those of its key", async () => {
    await reader`insert into notes (id, body) values (900, 'held')`;
    const group = new GroupCommit(db.db);
    // another transaction holds note 900's row
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holder = postgres(url, { max: 1, onnotice: () => {} });
    const holding = holder.begin(async (tx) => {
      await tx`select 1 from notes where id = 900 for update`;
      await released;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const touch = (key: string, id: number) =>
      group.run([key], async (tx) => {
        tx.send(sql`update notes set body = body || '.' where id = ${id}`);
        await tx.commit();
        return Date.now(); // committed by then
      });
    const stuck = touch("note/900", 900);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sameKey = touch("note/900", 900);
    const otherKey = await touch("note/901", 100);
    // the other key committed while note 900 was held; its own key's second write waits behind it
    const settled = await Promise.race([
      sameKey.then(() => "done"),
      new Promise((r) => setTimeout(r, 200, "waiting")),
    ]);
    expect(settled).toBe("waiting");
    release();
    await holding;
    await holder.end();
    const [first, second] = await Promise.all([stuck, sameKey]);
    expect(otherKey).toBeLessThan(first);
    expect(second).toBeGreaterThanOrEqual(first);
    const [row] = await reader<{ body: string }[]>`select body from notes where id = 900`;
    expect(row?.body).toBe("held..");
  });

  it("fails only the write whose statement failed; the others of its batch are committed once", async () => {
    await reader`insert into notes (id, body) values (7, 'taken')`;
    const group = new GroupCommit(db.db);
    const results = await Promise.allSettled([
      insert(group, { id: 200, body: "first, alone" }),
      insert(group, { id: 201, body: "batched" }),
      insert(group, { id: 7, body: "duplicate" }),
      insert(group, { id: 202, body: "batched" }),
    ]);

    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const failure = results[2] as PromiseRejectedResult;
    expect(String(failure.reason)).toMatch(/duplicate key/);
    const rows = await reader<{ id: number; body: string }[]>`
      select id, body from notes where id in (7, 200, 201, 202) order by id`;
    expect(rows).toEqual([
      { id: 7, body: "taken" },
      { id: 200, body: "first, alone" },
      { id: 201, body: "batched" },
      { id: 202, body: "batched" },
    ]);
  });

  it("fails alone a write that throws once its statements are sent; its neighbours are not run twice", async () => {
    await reader`create table counts (id integer primary key, n integer not null)`;
    await reader`insert into counts values (1, 0), (2, 0), (3, 0)`;
    const group = new GroupCommit(db.db);
    const bump = (id: number, thenThrow = false) =>
      group.run([`count/${id}`], async (tx) => {
        const [[row]] = await Promise.all([
          tx.send(sql`update counts set n = n + 1 where id = ${id} and ${!thenThrow} returning n`),
          tx.commit(),
        ]);
        if (thenThrow) throw new Error(`nothing to bump for ${id}`);
        return row?.n;
      });
    const results = await Promise.allSettled([bump(1), bump(2), bump(3, true), bump(1)]);

    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const rows = await reader<{ id: number; n: number }[]>`select id, n from counts order by id`;
    expect(rows).toEqual([
      { id: 1, n: 2 },
      { id: 2, n: 1 },
      { id: 3, n: 0 },
    ]);
  });

  it("sends a batch's writes in the order of their keys, whatever order they arrived in", async () => {
    await reader`create table log (seq bigserial primary key, key text not null, tx text not null)`;
    const group = new GroupCommit(db.db);
    const append = (key: string) =>
      group.run([key], async (tx) => {
        tx.send(sql`insert into log (key, tx) values (${key}, txid_current()::text)`);
        return key;
      });
    await Promise.all(["m", "c", "z", "a", "k", "q", "b", "y", "f", "w", "d", "p"].map(append));

    const rows = await reader<{ key: string; tx: string }[]>`select key, tx from log order by seq`;
    expect(rows).toHaveLength(12);
    // arrived together, went together in a few batches, each batch's writes sorted
    const batches = new Map<string, Array<{ key: string }>>();
    for (const r of rows) batches.set(r.tx, [...(batches.get(r.tx) ?? []), r]);
    expect(Math.max(...[...batches.values()].map((b) => b.length))).toBeGreaterThan(1);
    for (const batch of batches.values()) {
      const keys = batch.map((r) => r.key);
      expect(keys).toEqual([...keys].sort());
    }
  });

  it("never puts an exclusive write in a batch with another write of its key", async () => {
    const group = new GroupCommit(db.db);
    // 311 and 321 share 301's key (note/1), and must wait for batches of their own
    const txids = await Promise.all(
      [300, 301, 302, 311, 321, 303].map((id) => insert(group, { id, body: "x" }, id % 10 === 1)),
    );
    const [t300, t301, t302, t311, t321, t303] = txids;
    expect(new Set([t301, t311, t321]).size).toBe(3);
    // the ones after 301 shared a transaction with no other write (the others had gone by then)
    for (const t of [t311, t321]) expect(txids.filter((x) => x === t)).toHaveLength(1);
    expect(new Set([t300, t302, t303]).has(t311)).toBe(false);
    // and they keep their order: each waits for the one before it
    const rows = await reader<
      { id: number; tx: string }[]
    >`select id, xmin::text as tx from notes where id in (301, 311, 321) order by xmin::text::bigint`;
    expect(rows.map((r) => r.id)).toEqual([301, 311, 321]);
  });
});
