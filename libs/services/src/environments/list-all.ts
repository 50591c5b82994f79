import { and, asc, environments, eq, inArray, ne, projects } from "@edgeplane/db";
import type { EnvironmentStatus } from "@edgeplane/domain";
import type { Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { environmentView } from "../views.ts";

/**
 * Environments across every project the principal may read (all of them for admin), optionally of one
 * status only: what `edgeplane hosts` turns into hosts-file lines. Destroyed ones only when asked for.
 */
export async function listAllEnvironments({
  ctx,
  principal,
  input: { status } = {},
}: {
  ctx: ServiceContext;
  principal: Principal;
  input?: { status?: EnvironmentStatus | undefined };
}) {
  const everything = principal.kind === "admin" || principal.scopes.includes("admin");
  if (!everything && !principal.scopes.includes("read")) return [];
  if (!everything && principal.projectIds.length === 0) return [];
  const rows = await ctx.db
    .select({ env: environments, project: projects })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(
      and(
        status ? eq(environments.status, status) : ne(environments.status, "destroyed"),
        everything ? undefined : inArray(environments.projectId, principal.projectIds),
      ),
    )
    .orderBy(asc(environments.hostname));
  return rows.map(({ env, project }) => environmentView(env, project, ctx.urls));
}
