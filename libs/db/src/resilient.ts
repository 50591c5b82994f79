import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { connectionLost } from "./errors.ts";
import { type Reserved, registerClient } from "./raw.ts";
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
 * Two more follow from a lost connection (porsager/postgres#1195 and its kin): a caller waiting to
 * reserve a connection can be handed to the lost connection's reconnection, which drops it (the
 * wait never ends: the request behind it hangs for good); and a reserved connection's holder that
 * goes on sending after the loss sends on the reconnected connection, which may be another
 * caller's by then (its COMMIT in their transaction). So a pool that lost a connection is done with
 * reservations at once, before it is replaced: what reserved a connection of it is told (`lost`)
 * and sends nothing more, and a wait for one of its connections is given up and made again on the
 * pool that replaces it (no statement was sent: asking again is safe).
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
  /** A connection of this pool was lost: it is to be replaced, and reserves no connection any more. */
  lost: boolean;
  /** Resolves once the pool was replaced (or the whole closed). */
  replaced: Promise<void>;
  markReplaced: () => void;
}

/** Pools a reservation tries at most, while the pools it tries lose connections (Postgres away). */
const RESERVE_ATTEMPTS = 3;

function deferred(): [Promise<void>, () => void] {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return [promise, resolve];
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
    const [replaced, markReplaced] = deferred();
    const sql = postgres(url, {
      max: options.max,
      onnotice: () => {},
      connect_timeout: 10,
      // connections end only when lost, so a close always means trouble (see recycle)
      max_lifetime: null,
      onclose: () => {
        pool.lost = true;
        if (id === generation) recycle();
      },
    });
    const pool: Pool = { sql, db: drizzle(sql, { schema }), lost: false, replaced, markReplaced };
    return pool;
  };

  let current = open();

  const replace = () => {
    pendingRecycle = null;
    if (closing) return;
    lastRecycle = Date.now();
    const old = current;
    current = open();
    old.markReplaced();
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
  /**
   * A connection of the current pool, and whether that pool has lost a connection since. A pool
   * that loses one while this waits is given up (a connection it hands over after all goes straight
   * back, unused) and its replacement asked.
   */
  const reserve = async (attempt = 1): Promise<Reserved> => {
    const pool = current;
    let error: unknown = connectionLost();
    if (!pool.lost) {
      const waiting = pool.sql.reserve();
      // a wait the driver dropped ends when the pool is replaced
      const connection = await Promise.race([
        waiting.catch((failure: unknown) => {
          error = failure;
          return null;
        }),
        pool.replaced.then(() => null),
      ]);
      if (connection && !pool.lost) return { connection, lost: () => pool.lost };
      void waiting.then(
        (late) => late.release(),
        () => {},
      );
    }
    if (closing || !pool.lost || attempt >= RESERVE_ATTEMPTS) throw error;
    await pool.replaced;
    return reserve(attempt + 1);
  };
  registerClient(
    db,
    () => current.sql,
    () => reserve(),
  );

  return {
    db,
    sql,
    close: async () => {
      closing = true;
      if (pendingRecycle) clearTimeout(pendingRecycle);
      current.markReplaced();
      await Promise.all([current.sql.end({ timeout: 5 }), ...retired]);
    },
  };
}
