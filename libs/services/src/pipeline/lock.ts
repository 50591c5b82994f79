import type { Sql } from "@edgeplane/db";

/**
 * Holds a Postgres advisory lock on `key` for the duration of `fn` (one reconcile at a time per
 * environment, across any number of worker processes). A dead worker's lock dies with its session.
 */
export async function withAdvisoryLock<T>(sql: Sql, key: string, fn: () => Promise<T>): Promise<T> {
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(hashtextextended(${key}, 0))`;
    try {
      return await fn();
    } finally {
      await conn`select pg_advisory_unlock(hashtextextended(${key}, 0))`;
    }
  } finally {
    conn.release();
  }
}
