import { getTableColumns, type Table } from "drizzle-orm";
import type postgres from "postgres";

/**
 * The driver beneath drizzle, for the few statements that skip drizzle's per-call building (see
 * prepared.ts, pipelined-transaction.ts): the pool behind a db, and rows as the driver returns them.
 */

/** A row as the driver returns it: columns by their Postgres names (see `rowOf`). */
export type RawRow = Record<string, unknown>;

export type PgClient = postgres.Sql<Record<string, unknown>>;

/** A connection of the pool, for a caller's alone until it releases it. */
export type ReservedClient = Awaited<ReturnType<PgClient["reserve"]>>;

/** A reserved connection, and whether its pool has lost a connection since (then it may be gone too). */
export interface Reserved {
  connection: ReservedClient;
  /** True once a connection of its pool was lost: nothing more may be sent on it, nor may it be released. */
  lost(): boolean;
}

interface Registered {
  client: () => PgClient;
  reserve: () => Promise<Reserved>;
}

const clients = new WeakMap<object, Registered>();

/**
 * Makes the pool behind `db` reachable by `clientOf` and `reserveOf` (createDb registers every db
 * it makes); `reserve` takes a connection of it for one caller.
 */
export function registerClient(db: object, client: () => PgClient, reserve: () => Promise<Reserved>): void {
  clients.set(db, { client, reserve });
}

function registered(db: object): Registered {
  const found = clients.get(db);
  if (!found) throw new Error("no connection pool behind this db: make it with createDb");
  return found;
}

/** The pool behind `db`, as it is now (a resilient pool replaces its pool after a lost connection). */
export function clientOf(db: object): PgClient {
  return registered(db).client();
}

/** A connection of the pool behind `db`, the caller's alone until it releases it. */
export function reserveOf(db: object): Promise<Reserved> {
  return registered(db).reserve();
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
