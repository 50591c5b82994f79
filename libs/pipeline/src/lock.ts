import type { Sql } from "@edgeplane/db";

/** The lock a step held was lost (its Postgres session died): the step stops, and its job is retried. */
export class LockLost extends Error {
  override name = "LockLost";
}

/** What a holder of a lock can ask while it works: is the lock still mine? */
export interface HeldLock {
  /** Aborted the moment the session holding the lock is lost. */
  readonly signal: AbortSignal;
  /** Throws LockLost once the lock is lost; call it before every side effect. */
  assertHeld(): void;
}

/**
 * How long one attempt to take a lock waits in Postgres before it gives its connection back and
 * queues for one again (see withAdvisoryLock).
 */
const WAIT_SLICE_MS = 100;

/** Postgres's answer to a lock wait that outlasted `lock_timeout`. */
const LOCK_NOT_AVAILABLE = "55P03";

/**
 * Holds a Postgres advisory lock on `key` for the duration of `fn` (one reconcile at a time per
 * environment, across any number of worker processes). A dead worker's lock dies with its session.
 *
 * The lock is transaction-scoped, held by a transaction that stays open while `fn` runs and ends
 * when it is done. If that session is lost meanwhile (Postgres restarting, the backend terminated),
 * the lock is gone with it and another process may take it: `fn` is told at once (`signal`), its
 * next `assertHeld()` throws LockLost, and withAdvisoryLock itself rejects with LockLost even if
 * `fn` finished, so the job is retried and no step goes on believing it holds a lock it lost.
 *
 * A wait for a lock someone else holds takes a connection of `sql`'s pool for at most
 * WAIT_SLICE_MS at a time, then gives it back and queues for one again: waiters never hold every
 * connection while a holder needs one (for a lock inside its lock, say), however many wait.
 */
export async function withAdvisoryLock<T>(
  sql: Sql,
  key: string,
  fn: (held: HeldLock) => Promise<T>,
): Promise<T> {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const lost = new AbortController();
  let released = false;
  /** One attempt: `held` once the lock is held; `session` rejects if the attempt ends before (a wait too long). */
  const attempt = () => {
    let acquired!: () => void;
    const held = new Promise<void>((resolve) => {
      acquired = resolve;
    });
    const session = sql.begin(async (tx) => {
      // sent together: the wait below ends after WAIT_SLICE_MS, aborting the transaction
      void tx.unsafe(`set local lock_timeout = '${WAIT_SLICE_MS}ms'`).catch(() => {});
      await tx`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
      acquired();
      await done;
    });
    return { held, session };
  };
  let session: Promise<unknown>;
  for (;;) {
    const current = attempt();
    session = current.session;
    try {
      // the session failing before the lock is held fails the caller; after, it only loses the lock
      await Promise.race([current.held, current.session]);
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    }
  }
  const ended = session.then(
    () => {
      if (!released) lost.abort(new LockLost(`lock ${key} ended before its holder released it`));
    },
    (error: unknown) => {
      lost.abort(new LockLost(`lock ${key} lost: ${(error as Error).message}`));
    },
  );
  const lock: HeldLock = {
    signal: lost.signal,
    assertHeld() {
      if (lost.signal.aborted) throw lost.signal.reason;
    },
  };
  try {
    const result = await fn(lock);
    lock.assertHeld();
    return result;
  } finally {
    released = true;
    if (!lost.signal.aborted) {
      release();
      await ended;
    }
  }
}

/** The lock every step that changes an environment's runtime holds: one at a time per environment. */
export function environmentLock(environmentId: string): string {
  return `reconcile:${environmentId}`;
}
