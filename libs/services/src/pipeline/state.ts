import {
  and,
  type Db,
  type DeploymentPhase,
  type DeploymentRow,
  deploymentEvents,
  deployments,
  type EnvironmentRow,
  environments,
  eq,
  inArray,
  isNotNull,
  notInArray,
  type ProjectRow,
  projects,
} from "@edgeplane/db";
import type { Envelope } from "@edgeplane/queue";

export class EnvelopeMismatch extends Error {
  override name = "EnvelopeMismatch";
}

export interface JobState {
  project: ProjectRow;
  env: EnvironmentRow;
  deployment: DeploymentRow | null;
  /** A newer intent exists: this job must not act. */
  superseded: boolean;
}

/**
 * Reads the rows a job is about and checks the signed envelope against them: a job that names
 * rows that do not fit together is refused, whoever signed it.
 */
export async function loadJobState(db: Db, envelope: Envelope): Promise<JobState> {
  const [row] = await db
    .select({ env: environments, project: projects })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(eq(environments.id, envelope.environmentId))
    .limit(1);
  if (!row || row.project.id !== envelope.projectId) throw new EnvelopeMismatch("environment does not match envelope");
  if (envelope.generation > row.env.generation) throw new EnvelopeMismatch("envelope from a future generation");
  let deployment: DeploymentRow | null = null;
  if (envelope.deploymentId) {
    const [d] = await db.select().from(deployments).where(eq(deployments.id, envelope.deploymentId)).limit(1);
    if (
      !d ||
      d.environmentId !== envelope.environmentId ||
      d.generation !== envelope.generation ||
      d.image !== envelope.image
    ) {
      throw new EnvelopeMismatch("deployment does not match envelope");
    }
    deployment = d;
  }
  return { project: row.project, env: row.env, deployment, superseded: envelope.generation < row.env.generation };
}

const PHASE_COLUMN = {
  staging: "stagingAt",
  starting: "startingAt",
  routing: "routingAt",
  ready: "readyAt",
  failed: "failedAt",
  superseded: "supersededAt",
} as const satisfies Partial<Record<DeploymentPhase, keyof DeploymentRow>>;

const TERMINAL: DeploymentPhase[] = ["ready", "failed", "superseded"];

/** Moves an unfinished deployment to `phase` (first time only per phase) and records the event. */
export async function markPhase(
  db: Db,
  deploymentId: string | null,
  phase: keyof typeof PHASE_COLUMN,
  extra: { error?: string; digest?: string; message?: string } = {},
): Promise<boolean> {
  if (!deploymentId) return false;
  const now = new Date();
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(deployments).where(eq(deployments.id, deploymentId)).for("update");
    if (!current || TERMINAL.includes(current.status)) return false;
    const column = PHASE_COLUMN[phase];
    await tx
      .update(deployments)
      .set({
        status: phase,
        [column]: current[column] ?? now,
        ...(extra.error !== undefined ? { error: extra.error } : {}),
        ...(extra.digest !== undefined ? { digest: extra.digest } : {}),
      })
      .where(eq(deployments.id, deploymentId));
    if (current.status !== phase) {
      await tx
        .insert(deploymentEvents)
        .values({ deploymentId, phase, message: extra.message ?? extra.error ?? null, at: now });
    }
    return true;
  });
}

/** Sets environment columns only if the environment is still at `generation`. */
export async function updateEnvironmentAt(
  db: Db,
  envelope: Pick<Envelope, "environmentId" | "generation">,
  values: Partial<typeof environments.$inferInsert>,
): Promise<boolean> {
  const rows = await db
    .update(environments)
    .set(values)
    .where(and(eq(environments.id, envelope.environmentId), eq(environments.generation, envelope.generation)))
    .returning({ id: environments.id });
  return rows.length > 0;
}

/** A deployment failed for good: record the human-readable reason on the deployment and environment. */
export async function failDeployment(db: Db, envelope: Envelope, error: string): Promise<void> {
  if (!envelope.deploymentId) return; // teardown: the environment stays `destroying` and is retried
  await markPhase(db, envelope.deploymentId, "failed", { error });
  await updateEnvironmentAt(db, envelope, { status: "failed" });
}

/** Every environment the gateway should route, with the port of its newest healthy container. */
export async function routableEnvironments(db: Db) {
  return db
    .select({ id: environments.id, hostname: environments.hostname, port: environments.observedHostPort })
    .from(environments)
    .where(and(isNotNull(environments.observedHostPort), notInArray(environments.status, ["destroying", "destroyed"])));
}

export async function environmentsByIds(db: Db, ids: string[]) {
  if (ids.length === 0) return [];
  return db.select().from(environments).where(inArray(environments.id, ids));
}
