import { type Db, projects } from "@edgeplane/db";
import { conflict, newId } from "@edgeplane/domain";
import type { CreateProjectInput } from "./schemas.ts";

export async function createProject({ db, input }: { db: Db; input: CreateProjectInput }) {
  const [row] = await db
    .insert(projects)
    .values({ id: newId("project"), ...input })
    .onConflictDoNothing({ target: projects.name })
    .returning();
  if (!row) throw conflict(`project '${input.name}' already exists`);
  return row;
}
