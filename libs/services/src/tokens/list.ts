import { apiTokens, asc, type Db, eq, projects, sql } from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";

export async function listTokens(db: Db) {
  const [tokens, allProjects] = await Promise.all([
    db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt)),
    db.select({ id: projects.id, name: projects.name }).from(projects),
  ]);
  const nameOf = new Map(allProjects.map((p) => [p.id, p.name]));
  return tokens.map((t) => ({ ...t, projectNames: t.projectIds.map((id) => nameOf.get(id) ?? id) }));
}

export async function revokeToken(db: Db, id: string) {
  // revoking twice keeps the first revocation time
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(eq(apiTokens.id, id))
    .returning();
  if (!row) throw notFound(`token '${id}'`);
  return row;
}
