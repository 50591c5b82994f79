import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";

/** Resolved through the package, so it holds from the sources and from a compiled app alike. */
export const MIGRATIONS_DIR = join(
  dirname(createRequire(import.meta.url).resolve("@edgeplane/db/package.json")),
  "drizzle",
);

/** Creates the database if it does not exist (local use), then applies every pending migration. */
export async function migrateDatabase(url: string): Promise<void> {
  await ensureDatabase(url);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Runs `fn` on a connection to the server's `postgres` database, with the target's name checked. */
async function withServer(
  url: string,
  fn: (sql: postgres.Sql, name: string) => Promise<void>,
): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
  if (!/^[a-zA-Z0-9_]+$/.test(name)) throw new Error("database name must be letters, digits and '_'");
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    await fn(sql, name);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function ensureDatabase(url: string): Promise<void> {
  await withServer(url, async (sql, name) => {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    if (rows.length > 0) return;
    await sql.unsafe(`create database "${name}"`).catch((error: { code?: string }) => {
      if (error.code !== "42P04") throw error; // created concurrently
    });
  });
}

export async function dropDatabase(url: string): Promise<void> {
  await withServer(url, (sql, name) =>
    sql.unsafe(`drop database if exists "${name}" with (force)`).then(() => {}),
  );
}
