import { asc, type DbOrTx, eq, projects } from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";

export async function findProjectByName(db: DbOrTx, name: string) {
  const [row] = await db.select().from(projects).where(eq(projects.name, name)).limit(1);
  if (!row) throw notFound(`project '${name}'`);
  return row;
}

export async function listProjects(db: DbOrTx, onlyIds?: string[]) {
  const rows = await db.select().from(projects).orderBy(asc(projects.name));
  return onlyIds ? rows.filter((p) => onlyIds.includes(p.id)) : rows;
}
