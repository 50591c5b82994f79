import { asc, type DbOrTx, deployments, environments, eq, projects } from "@edgeplane/db";
import { isUnfinishedPhase } from "@edgeplane/domain";
import type { DeployPhase, StatusPageState } from "@edgeplane/pages";
import type { ServiceContext } from "../context.ts";
import { urlOf } from "../views.ts";

/**
 * What the control plane says about a host that the gateway has no ready route for: deploying (phase
 * and since when), failed (with the reason), destroyed, or unknown. It reveals that one host's state
 * and nothing else, so it needs no token: the gateway shows it to anyone who asks for the host.
 * A public verb, so it takes no principal.
 */
export async function hostStatus({
  ctx,
  input: { hostname },
}: {
  ctx: ServiceContext;
  input: { hostname: string };
}): Promise<StatusPageState> {
  const unknown: StatusPageState = { state: "unknown", hostname };
  if (recentlyUnknown(hostname)) return unknown;
  const [row] = await ctx.db
    .select({ env: environments, project: projects })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(eq(environments.hostname, hostname))
    .limit(1);
  if (!row) {
    rememberUnknown(hostname);
    return unknown;
  }
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

/**
 * Hosts nobody deployed: anyone can ask for any name, so the answer is kept for a moment and a
 * flood of made-up hosts costs no query each (at most `UNKNOWN_MAX` names, for `UNKNOWN_TTL_MS`).
 */
const UNKNOWN_TTL_MS = 2_000;
const UNKNOWN_MAX = 10_000;
const unknownUntil = new Map<string, number>();

function recentlyUnknown(hostname: string): boolean {
  const until = unknownUntil.get(hostname);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  unknownUntil.delete(hostname);
  return false;
}

function rememberUnknown(hostname: string): void {
  if (unknownUntil.size >= UNKNOWN_MAX) {
    const oldest = unknownUntil.keys().next().value;
    if (oldest !== undefined) unknownUntil.delete(oldest);
  }
  unknownUntil.set(hostname, Date.now() + UNKNOWN_TTL_MS);
}
