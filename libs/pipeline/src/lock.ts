import type { Sql } from "@edgeplane/db";

/**
 * Holds a Postgres advisory lock on `key` for the duration of `fn` (one reconcile at a time per
 * environment, across any number of worker processes). A dead worker's lock dies with its session.
 *
 * The lock is transaction-scoped, held by a transaction that stays open while `fn` runs and ends
 * when it is done. If that session is lost meanwhile (Postgres restarting), the lock is gone with
 * it: nothing more is sent on the dead connection (see libs/db resilient.ts), and `fn` finishes
 * on its own; every write it makes is guarded by the environment's generation anyway.
 */
export async function withAdvisoryLock<T>(sql: Sql, key: string, fn: () => Promise<T>): Promise<T> {
  let acquired!: () => void;
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    acquired = resolve;
  });
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  let lost = false;
  const session = sql
    .begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
      acquired();
      await done;
    })
    .then(
      () => {},
      (error: unknown) => {
        lost = true;
        throw error;
      },
    );
  // the session failing before the lock is held fails the caller; after, it only loses the lock
  await Promise.race([held, session]);
  session.catch(() => {});
  try {
    return await fn();
  } finally {
    if (!lost) {
      release();
      await session.catch(() => {});
    }
  }
}

/** The lock every step that changes an environment's runtime holds: one at a time per environment. */
export function environmentLock(environmentId: string): string {
  return `reconcile:${environmentId}`;
}
