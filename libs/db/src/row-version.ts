import { type SQL, sql, type Table } from "drizzle-orm";

/**
 * A row's version, as text: Postgres writes every update of a row as a new row version with a new
 * `xmin` (locking a row does not change it). A statement guarded by `rowVersion(t) = <as read>`
 * writes nothing if the row changed since it was read, which is what lets a verb act on a cached copy.
 */
export function rowVersion(table: Table): SQL<string> {
  return sql<string>`${table}.xmin::text`;
}
