import { type DbOrTx, eq, projects } from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";

/** The project row by name, or not found: what verbs look up before they authorize. */
export async function findProjectByName(db: DbOrTx, name: string) {
  const [row] = await db.select().from(projects).where(eq(projects.name, name)).limit(1);
  if (!row) throw notFound(`project '${name}'`);
  return row;
}
