import { and, deployments, desc, environments, eq } from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectByName } from "../projects/find.ts";
import { type DeploymentView, deploymentView } from "../views.ts";

/** An environment's deployments, newest first (at most `limit`), for a token that may read its project. */
export async function listDeployments({
  ctx,
  principal,
  input: { project: projectName, environment: name, limit },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { project: string; environment: string; limit: number };
}): Promise<DeploymentView[]> {
  const project = await findProjectByName(ctx.db, projectName);
  authorize(principal, "read", project.id);
  const [env] = await ctx.db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, project.id), eq(environments.name, name)))
    .limit(1);
  if (!env) throw notFound(`environment '${name}'`);
  const rows = await ctx.db
    .select()
    .from(deployments)
    .where(eq(deployments.environmentId, env.id))
    .orderBy(desc(deployments.generation), desc(deployments.createdAt))
    .limit(limit);
  return rows.map((d) => deploymentView(d, env, project, ctx.urls));
}
