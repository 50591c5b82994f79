import { type Db, eq, projects } from "@edgeplane/db";
import { findProjectByName } from "./find.ts";
import type { UpdateProjectInput } from "./schemas.ts";

export async function updateProject({
  db,
  name,
  input,
}: {
  db: Db;
  name: string;
  input: UpdateProjectInput;
}) {
  const project = await findProjectByName(db, name);
  const [row] = await db.update(projects).set(input).where(eq(projects.id, project.id)).returning();
  if (!row) throw new Error("project update returned nothing");
  return row;
}
