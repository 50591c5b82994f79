import { createResilientPool } from "./resilient.ts";

/** A pool and its drizzle db for a process; it survives a Postgres restart (see resilient.ts). */
export function createDb(url: string, options: { max?: number } = {}) {
  return createResilientPool(url, { max: options.max ?? 20 });
}
export type Db = ReturnType<typeof createDb>["db"];
export type Sql = ReturnType<typeof createDb>["sql"];
/** A transaction handle, accepted wherever a Db is. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;
