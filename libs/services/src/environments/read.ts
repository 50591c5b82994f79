import { and, asc, environments, eq, ne } from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectByName } from "../projects/find.ts";
import { environmentView } from "../views.ts";

export async function listEnvironments({
  ctx,
  principal,
  input: { project: projectName, includeDestroyed = false },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { project: string; includeDestroyed?: boolean };
}) {
  const project = await findProjectByName(ctx.db, projectName);
  authorize(principal, "read", project.id);
  const rows = await ctx.db
    .select()
    .from(environments)
    .where(
      includeDestroyed
        ? eq(environments.projectId, project.id)
        : and(eq(environments.projectId, project.id), ne(environments.status, "destroyed")),
    )
    .orderBy(asc(environments.name));
  return rows.map((e) => environmentView(e, project, ctx.urls));
}

export async function getEnvironment({
  ctx,
  principal,
  input: { project: projectName, environment: name },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { project: string; environment: string };
}) {
  const project = await findProjectByName(ctx.db, projectName);
  authorize(principal, "read", project.id);
  const [row] = await ctx.db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, project.id), eq(environments.name, name)))
    .limit(1);
  if (!row) throw notFound(`environment '${name}'`);
  return environmentView(row, project, ctx.urls);
}
