import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, dropDatabase, ensureDatabase, GroupCommit, type PipelinedTx } from "../src/index.ts";

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

  /** Inserts a note; resolves to the id of the transaction that wrote it. */
  const insert = (tx: PipelinedTx, note: { id: number; body: string }) =>
    tx
      .send(
        sql`insert into notes (id, body) values (${note.id}, ${note.body}) returning txid_current()::text as tx`,
      )
      .then(([row]) => String(row?.tx));

  it("commits writes that arrive together in fewer transactions, each awaited until committed", async () => {
    const group = new GroupCommit(db.db, insert);
    const ids = Array.from({ length: 40 }, (_, i) => 100 + i);
    const txids = await Promise.all(ids.map((id) => group.run({ id, body: `note ${id}` })));

    const rows = await reader<{ id: number }[]>`select id from notes where id >= 100 order by id`;
    expect(rows.map((r) => r.id)).toEqual(ids);
    const transactions = new Set(txids);
    // the first goes alone, at once; the rest arrived while it committed and went together
    expect(transactions.size).toBeGreaterThan(1);
    expect(transactions.size).toBeLessThanOrEqual(3);
  });

  it("fails only the write that failed; the others of its batch are committed", async () => {
    await reader`insert into notes (id, body) values (7, 'taken')`;
    const group = new GroupCommit(db.db, insert);
    const results = await Promise.allSettled([
      group.run({ id: 200, body: "first, alone" }),
      group.run({ id: 201, body: "batched" }),
      group.run({ id: 7, body: "duplicate" }),
      group.run({ id: 202, body: "batched" }),
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

  it("sends a batch's writes in the order given, whatever order they arrived in", async () => {
    await reader`create table log (seq bigserial primary key, key text not null)`;
    const group = new GroupCommit(
      db.db,
      (tx, key: string) => tx.send(sql`insert into log (key) values (${key})`).then(() => key),
      { order: (a, b) => (a < b ? -1 : a > b ? 1 : 0) },
    );
    await Promise.all(["m", "c", "z", "a", "k"].map((k) => group.run(k)));

    const rows = await reader<{ key: string }[]>`select key from log order by seq`;
    // "m" went alone at once; the four that waited went together, sorted
    expect(rows.map((r) => r.key)).toEqual(["m", "a", "c", "k", "z"]);
  });
});
