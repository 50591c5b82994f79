import {
  type Db,
  type ProjectRow,
  prepare,
  projects,
  rowOf,
  rowVersion,
  runPrepared,
  sql,
} from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";
import { LastRead } from "./last-read.ts";

// drizzle selects either whole tables or named fields: every column, and the version beside them
const WITH_VERSION = prepare(
  sql`select *, ${rowVersion(projects)} as version from ${projects} where ${projects.name} = ${sql.placeholder("name")} limit 1`,
);

async function lookUp(db: Db, name: string): Promise<{ row: ProjectRow; version: string }> {
  const [raw] = await runPrepared(db, WITH_VERSION, { name });
  if (!raw) throw notFound(`project '${name}'`);
  return { row: rowOf(projects, raw), version: String(raw.version) };
}

/**
 * The project row by name, or not found: what verbs look up before they authorize (a statement
 * prepared once).
 */
export async function findProjectByName(db: Db, name: string): Promise<ProjectRow> {
  return (await lookUp(db, name)).row;
}

/** Projects by name, as deploys last read them. */
const known = new LastRead<{ row: ProjectRow; version: string }>(1000);

/**
 * The project row by name with its version, as last read by this process (`cached`), for a verb
 * whose writes are guarded by that version (a deploy: see StaleProject). `fresh` reads it again,
 * as the verb does once its guard found the project changed, and before it refuses anything on
 * the grounds of a cached row. A project never read is read now.
 */
export async function findProjectForWrite(
  db: Db,
  name: string,
  options: { fresh?: boolean } = {},
): Promise<{ row: ProjectRow; version: string; cached: boolean }> {
  const { value, cached } = await known.get(db, name, {
    fresh: options.fresh ?? false,
    read: () => lookUp(db, name),
  });
  return { ...value, cached };
}
