import { asc, projects } from "@edgeplane/db";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { projectView } from "../views.ts";
import { findProjectByName } from "./find.ts";

/** Every project for admin; for a project token, only the projects it is granted (no scope needed). */
export async function listProjects({ ctx, principal }: { ctx: ServiceContext; principal: Principal }) {
  const rows = await ctx.db.select().from(projects).orderBy(asc(projects.name));
  const everything = principal.kind === "admin" || principal.scopes.includes("admin");
  const visible = everything ? rows : rows.filter((p) => principal.projectIds.includes(p.id));
  return visible.map(projectView);
}

export async function getProject({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { project: string };
}) {
  const project = await findProjectByName(ctx.db, input.project);
  authorize(principal, "read", project.id);
  return projectView(project);
}
