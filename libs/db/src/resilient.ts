import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { registerClient } from "./raw.ts";
import * as schema from "./schema.ts";

/*
 * Surviving a Postgres restart with postgres.js 3.4.9.
 *
 * The driver has a known defect (porsager/postgres#1154, #1208, #1066): when a connection dies, a
 * write queued on it afterwards (a transaction's ROLLBACK, a reserved connection's next query)
 * runs from a setImmediate against a socket that is already gone and throws a TypeError no caller
 * can catch, which kills the process; and a connection that died with a write pending can never
 * send again, so its pool slot hangs every query routed to it until CONNECT_TIMEOUT, forever.
 * Until a fixed release exists, two measures keep a process serving across a restart:
 *  - such a write is dropped instead of crashing (the query it belonged to was already rejected
 *    through the connection's close, or belongs to a pool that is being retired), and
 *  - a pool that lost a connection is replaced by a fresh one; the old pool is ended in the
 *    background (queries still running on it finish or fail within seconds).
 */

let guarded = false;

/** Drops the write postgres.js schedules (`nextWrite`) on a connection whose socket is already gone. */
export function guardDeadConnectionWrites(): void {
  if (guarded) return;
  guarded = true;
  const original = globalThis.setImmediate;
  const patched = (<TArgs extends unknown[]>(callback: (...args: TArgs) => void, ...args: TArgs) => {
    if (typeof callback !== "function" || callback.name !== "nextWrite") return original(callback, ...args);
    return original(
      (...callArgs: TArgs) => {
        try {
          callback(...callArgs);
        } catch (error) {
          if (error instanceof TypeError && /\(reading 'write'\)/.test(error.message)) return;
          throw error;
        }
      },
      ...args,
    );
  }) as typeof setImmediate;
  Object.assign(patched, original); // util.promisify.custom and friends
  globalThis.setImmediate = patched;
}

type PgSql = ReturnType<typeof postgres<Record<string, never>>>;
type Drizzle = PostgresJsDatabase<typeof schema> & { $client: PgSql };
interface Pool {
  sql: PgSql;
  db: Drizzle;
}

/**
 * A postgres.js pool with a drizzle db on it that replaces itself when it loses a connection.
 * `db` and `sql` always forward to the current pool, so callers keep one handle for the life of
 * the process.
 */
export function createResilientPool(url: string, options: { max: number; recycleAfterMs?: number }) {
  guardDeadConnectionWrites();
  let generation = 0;
  let closing = false;
  let lastRecycle = 0;
  let pendingRecycle: NodeJS.Timeout | null = null;
  const retired = new Set<Promise<void>>();

  const open = (): Pool => {
    const id = ++generation;
    const sql = postgres(url, {
      max: options.max,
      onnotice: () => {},
      connect_timeout: 10,
      // connections end only when lost, so a close always means trouble (see recycle)
      max_lifetime: null,
      onclose: () => {
        if (id === generation) recycle();
      },
    });
    return { sql, db: drizzle(sql, { schema }) };
  };

  let current = open();

  const replace = () => {
    pendingRecycle = null;
    if (closing) return;
    lastRecycle = Date.now();
    const old = current;
    current = open();
    const ended = old.sql
      .end({ timeout: 5 })
      .catch(() => {})
      .finally(() => retired.delete(ended));
    retired.add(ended);
  };
  // at most one replacement per interval: while Postgres is down every attempt loses its connection
  const recycle = () => {
    if (closing || pendingRecycle) return;
    const wait = lastRecycle + (options.recycleAfterMs ?? 1000) - Date.now();
    if (wait <= 0) replace();
    else pendingRecycle = setTimeout(replace, wait);
  };

  const forward = <T extends object>(target: () => T) => ({
    get(_: unknown, property: string | symbol) {
      const value = Reflect.get(target(), property, target());
      return typeof value === "function" ? value.bind(target()) : value;
    },
  });
  const db = new Proxy<Drizzle>(
    {} as Drizzle,
    forward(() => current.db),
  );
  const sql = new Proxy<PgSql>((() => {}) as unknown as PgSql, {
    ...forward(() => current.sql),
    apply: (_target, thisArg, args) =>
      Reflect.apply(current.sql as unknown as (...a: unknown[]) => unknown, thisArg, args),
  });
  registerClient(db, () => current.sql);

  return {
    db,
    sql,
    close: async () => {
      closing = true;
      if (pendingRecycle) clearTimeout(pendingRecycle);
      await Promise.all([current.sql.end({ timeout: 5 }), ...retired]);
    },
  };
}
