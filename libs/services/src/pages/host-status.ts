import { asc, type DbOrTx, deployments, environments, eq, projects } from "@edgeplane/db";
import { isUnfinishedPhase } from "@edgeplane/domain";
import type { DeployPhase, StatusPageState } from "@edgeplane/pages";
import type { ServiceContext } from "../context.ts";
import { urlOf } from "../views.ts";

/**
 * What the control plane says about a host that the gateway has no ready route for: deploying (phase
 * and since when), failed (with the reason), destroyed, or unknown. It reveals that one host's state
 * and nothing else, so it needs no token: the gateway shows it to anyone who asks for the host.
 */
export async function hostStatus({
  ctx,
  hostname,
}: {
  ctx: ServiceContext;
  hostname: string;
}): Promise<StatusPageState> {
  const unknown: StatusPageState = { state: "unknown", hostname };
  const [row] = await ctx.db
    .select({ env: environments, project: projects })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(eq(environments.hostname, hostname))
    .limit(1);
  if (!row) return unknown;
  const { env, project } = row;
  const names = { environment: env.name, project: project.name };
  const deployment = env.currentDeploymentId
    ? await currentDeployment(ctx.db, env.currentDeploymentId)
    : undefined;
  switch (env.status) {
    case "destroying":
    case "destroyed":
      return { state: "destroyed", ...names, destroyedAt: (env.destroyedAt ?? env.updatedAt).toISOString() };
    case "failed":
      return {
        state: "failed",
        ...names,
        reason: (deployment?.error ?? "the deployment failed").slice(0, 4000),
        failedAt: (deployment?.failedAt ?? env.updatedAt).toISOString(),
      };
    case "pending":
    case "deploying":
    case "ready": {
      // ready but not (yet) routed here: the gateway is about to serve it
      const phase = (
        deployment && isUnfinishedPhase(deployment.status) ? deployment.status : "routing"
      ) as DeployPhase;
      return {
        state: "deploying",
        ...names,
        phase,
        since: (deployment?.queuedAt ?? env.updatedAt).toISOString(),
        url: urlOf(env.hostname, project, ctx.urls),
      };
    }
    default:
      return unknown;
  }
}

async function currentDeployment(db: DbOrTx, id: string) {
  const [d] = await db
    .select()
    .from(deployments)
    .where(eq(deployments.id, id))
    .orderBy(asc(deployments.createdAt))
    .limit(1);
  return d;
}
