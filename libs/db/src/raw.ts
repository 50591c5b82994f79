import { getTableColumns, type Table } from "drizzle-orm";
import type postgres from "postgres";

/**
 * The driver beneath drizzle, for the few statements that skip drizzle's per-call building (see
 * prepared.ts, pipelined-transaction.ts): the pool behind a db, and rows as the driver returns them.
 */

/** A row as the driver returns it: columns by their Postgres names (see `rowOf`). */
export type RawRow = Record<string, unknown>;

export type PgClient = postgres.Sql<Record<string, unknown>>;

const clients = new WeakMap<object, () => PgClient>();

/** Makes the pool behind `db` reachable by `clientOf` (createDb registers every db it makes). */
export function registerClient(db: object, client: () => PgClient): void {
  clients.set(db, client);
}

/** The pool behind `db`, as it is now (a resilient pool replaces its pool after a lost connection). */
export function clientOf(db: object): PgClient {
  const client = clients.get(db);
  if (!client) throw new Error("no connection pool behind this db: make it with createDb");
  return client();
}

const columnsOf = new WeakMap<Table, Array<[string, ReturnType<typeof getTableColumns>[string]]>>();

/**
 * A raw row of `table` (every column, by its Postgres name) as drizzle would have returned it:
 * each value mapped from the driver's form by its column (timestamps to Dates, and so on).
 */
export function rowOf<T extends Table>(table: T, raw: RawRow): T["$inferSelect"] {
  let columns = columnsOf.get(table);
  if (!columns) {
    columns = Object.entries(getTableColumns(table));
    columnsOf.set(table, columns);
  }
  const row: Record<string, unknown> = {};
  for (const [key, column] of columns) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as T["$inferSelect"];
}
