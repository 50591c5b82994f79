import { asc, type Db, deploymentEvents, deployments, environments, eq, projects } from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { type DeploymentDetail, deploymentView } from "../views.ts";

/** A deployment with its environment and project, or undefined. */
export async function findDeploymentRow(db: Db, id: string) {
  const [row] = await db
    .select({ d: deployments, e: environments, p: projects })
    .from(deployments)
    .innerJoin(environments, eq(environments.id, deployments.environmentId))
    .innerJoin(projects, eq(projects.id, deployments.projectId))
    .where(eq(deployments.id, id))
    .limit(1);
  return row;
}

/** One deployment with its events, for a token that may read its project. */
export async function getDeployment({
  ctx,
  principal,
  input: { id },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string };
}): Promise<DeploymentDetail> {
  const row = await findDeploymentRow(ctx.db, id);
  if (!row) throw notFound(`deployment '${id}'`);
  authorize(principal, "read", row.p.id);
  const events = await ctx.db
    .select()
    .from(deploymentEvents)
    .where(eq(deploymentEvents.deploymentId, id))
    .orderBy(asc(deploymentEvents.id));
  return {
    ...deploymentView(row.d, row.e, row.p, ctx.urls),
    events: events.map((e) => ({ phase: e.phase, message: e.message, at: e.at.toISOString() })),
  };
}
