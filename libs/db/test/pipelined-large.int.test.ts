import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, dropDatabase, ensureDatabase, pipelinedTransaction, prepare, sql } from "../src/index.ts";

const url = `postgres://postgres@127.0.0.1:5432/edgeplane_pipelined_${randomBytes(4).toString("hex")}`;

// A transaction whose statements, all sent before any answer, are far more than a socket buffers
// (16 KiB): none is lost and the connection stalls neither this transaction nor the next.
describe("a pipelined transaction larger than a socket's buffer", () => {
  let db: ReturnType<typeof createDb>;

  beforeAll(async () => {
    await ensureDatabase(url);
    db = createDb(url, { max: 2 });
    await db.sql`create table items (id integer primary key, body text not null)`;
  });
  afterAll(async () => {
    await db?.close();
    await dropDatabase(url);
  });

  const INSERT = prepare(
    sql`insert into items (id, body) values (${sql.placeholder("id")}::integer, ${sql.placeholder("body")}) returning id`,
  );

  it("commits every statement, and the connection serves the next transaction", async () => {
    const body = "x".repeat(1000);
    for (const round of [0, 1, 2]) {
      const ids = await pipelinedTransaction(db.db, async (tx) => {
        const sent = Array.from({ length: 200 }, (_, i) => tx.send(INSERT, { id: round * 1000 + i, body }));
        const [rows] = await Promise.all([Promise.all(sent), tx.commit()]);
        return rows.map(([row]) => Number(row?.id));
      });
      expect(ids).toHaveLength(200);
    }
    const [count] = await db.sql<{ n: number }[]>`select count(*)::int as n from items`;
    expect(count?.n).toBe(600);
  });
});
