import { createDb, ensureDatabase, migrateDatabase, sql } from "@edgeplane/db";

/**
 * Applies pending migrations, one process at a time: every machine's `edgeplane up` migrates before
 * it starts anything, and several may start at once against one Postgres. The lock is transaction-
 * scoped, so a process that dies while migrating lets the next one in; the one after it finds
 * nothing left to apply.
 */
export async function migrateExclusively(url: string): Promise<void> {
  await ensureDatabase(url);
  const { db, close } = createDb(url, { max: 1 });
  try {
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('edgeplane:migrate', 0))`);
      await migrateDatabase(url);
    });
  } finally {
    await close();
  }
}
