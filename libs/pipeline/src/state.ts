import {
  and,
  type Db,
  type DbOrTx,
  type DeploymentRow,
  deploymentEvents,
  deployments,
  type EnvironmentRow,
  environments,
  eq,
  isNotNull,
  notInArray,
  or,
  type ProjectRow,
  projects,
  type SQL,
  sql,
  type Tx,
} from "@edgeplane/db";
import {
  type DeploymentPhase,
  type DesiredServices,
  GONE_STATUSES,
  isGone,
  isTerminalPhase,
  TERMINAL_PHASES,
} from "@edgeplane/domain";
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
  if (!row || row.project.id !== envelope.projectId)
    throw new EnvelopeMismatch("environment does not match envelope");
  if (envelope.generation > row.env.generation)
    throw new EnvelopeMismatch("envelope from a future generation");
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
  return {
    project: row.project,
    env: row.env,
    deployment,
    superseded: envelope.generation < row.env.generation,
  };
}

const PHASE_COLUMN = {
  staging: "stagingAt",
  starting: "startingAt",
  routing: "routingAt",
  ready: "readyAt",
  failed: "failedAt",
  superseded: "supersededAt",
} as const satisfies Partial<Record<DeploymentPhase, keyof DeploymentRow>>;

/**
 * Moves an unfinished deployment to `phase` (first time only per phase) and records the event.
 * Entering another phase clears `statusDetail` (what the phase was waiting on) unless one is given.
 */
export async function markPhase(
  db: DbOrTx,
  deploymentId: string | null,
  phase: keyof typeof PHASE_COLUMN,
  extra: {
    error?: string;
    digest?: string;
    services?: DesiredServices;
    message?: string;
    statusDetail?: string | null;
  } = {},
): Promise<boolean> {
  if (!deploymentId) return false;
  const now = new Date().toISOString();
  const column = sql.identifier(deployments[PHASE_COLUMN[phase]].name);
  const sets: SQL[] = [
    sql`status = ${phase}`,
    sql`${column} = coalesce(d.${column}, ${now}::timestamptz)`,
    sql`updated_at = ${now}::timestamptz`,
    extra.statusDetail !== undefined
      ? sql`status_detail = ${extra.statusDetail}`
      : sql`status_detail = case when d.status <> ${phase} then null else d.status_detail end`,
  ];
  if (extra.error !== undefined) sets.push(sql`error = ${extra.error}`);
  if (extra.digest !== undefined) sets.push(sql`digest = ${extra.digest}`);
  if (extra.services !== undefined) sets.push(sql`services = ${JSON.stringify(extra.services)}::jsonb`);
  // one statement, one round trip: the row locked (and, if another transaction held it, read again
  // as it then is), moved on unless finished, and the event recorded if the phase changed
  const rows = await db.execute(sql`with current as (
      select id, status from ${deployments} where id = ${deploymentId}
        and status not in (${sql.join(
          TERMINAL_PHASES.map((p) => sql`${p}`),
          sql`, `,
        )})
      for update
    ), updated as (
      update ${deployments} as d set ${sql.join(sets, sql`, `)}
      from current where d.id = current.id
      returning current.status as was
    ), event as (
      insert into ${deploymentEvents} (deployment_id, phase, message, at)
      select ${deploymentId}, ${phase}, ${extra.message ?? extra.error ?? null}, ${now}::timestamptz
      from updated where was <> ${phase}
    )
    select was from updated`);
  return rows.length > 0;
}

/** The deployment, locked for the rest of the transaction, if it is still unfinished. */
async function lockUnfinished(tx: Tx, deploymentId: string): Promise<DeploymentRow | undefined> {
  const [current] = await tx.select().from(deployments).where(eq(deployments.id, deploymentId)).for("update");
  return current && !isTerminalPhase(current.status) ? current : undefined;
}

/**
 * Says what an unfinished deployment's current phase is waiting on (`waiting for image`), and
 * records an event with `message` when that changes. False if the deployment is finished.
 */
export async function setStatusDetail(
  db: Db,
  deploymentId: string | null,
  detail: string,
  message = detail,
): Promise<boolean> {
  if (!deploymentId) return false;
  return db.transaction(async (tx) => {
    const current = await lockUnfinished(tx, deploymentId);
    if (!current) return false;
    if (current.statusDetail === detail) return true;
    await tx.update(deployments).set({ statusDetail: detail }).where(eq(deployments.id, deploymentId));
    await tx.insert(deploymentEvents).values({ deploymentId, phase: current.status, message });
    return true;
  });
}

/** Records an event in the deployment's current phase (a note for humans, no state change). */
export async function noteDeployment(db: Db, deploymentId: string | null, message: string): Promise<void> {
  if (!deploymentId) return;
  const [current] = await db
    .select({ status: deployments.status })
    .from(deployments)
    .where(eq(deployments.id, deploymentId));
  if (current) await db.insert(deploymentEvents).values({ deploymentId, phase: current.status, message });
}

/**
 * A job runs again for a deployment that already `failed`: someone retried it (the ops dashboard,
 * or BullMQ after its worker died), since nothing automatic enqueues work for a failed deployment.
 * If the deployment is still its environment's current intent, it is reopened (`queued`, its error
 * kept in the events) so the step's progress shows again; a superseded one never is.
 */
export async function reopenDeployment(db: Db, deploymentId: string): Promise<boolean> {
  const now = new Date();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ d: deployments, e: environments })
      .from(deployments)
      .innerJoin(environments, eq(environments.id, deployments.environmentId))
      .where(eq(deployments.id, deploymentId))
      .for("update");
    if (row?.d.status !== "failed") return false;
    const current =
      row.e.currentDeploymentId === deploymentId &&
      row.e.generation === row.d.generation &&
      !isGone(row.e.status);
    if (!current) return false;
    await tx
      .update(deployments)
      .set({ status: "queued", error: null, failedAt: null })
      .where(eq(deployments.id, deploymentId));
    await tx
      .insert(deploymentEvents)
      .values({ deploymentId, phase: "queued", message: "retried after failure", at: now });
    if (row.e.status === "failed") {
      await tx.update(environments).set({ status: "deploying" }).where(eq(environments.id, row.e.id));
    }
    return true;
  });
}

/** Sets environment columns only if the environment is still at `generation`. */
export async function updateEnvironmentAt(
  db: DbOrTx,
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
  const { deploymentId } = envelope;
  if (!deploymentId) return; // teardown: the environment stays `destroying` and is retried
  // one transaction: whoever sees the deployment failed sees its environment failed (its host's
  // status page says why), never still deploying
  await db.transaction(async (tx) => {
    await markPhase(tx, deploymentId, "failed", { error });
    await updateEnvironmentAt(tx, envelope, { status: "failed" });
  });
}

/**
 * Every environment the gateway routes, and where to: the container its last ingress routed
 * (`routed*`), so that a container only enters the gateway through its own environment's ingress,
 * which records it as routed (reconcile never removes the routed container). The environment
 * `promote` names (the one an ingress job is switching) is routed to its newest healthy container.
 */
export async function routableEnvironments(db: Db, promote?: string) {
  const rows = await db
    .select({
      id: environments.id,
      projectId: environments.projectId,
      hostname: environments.hostname,
      kind: environments.kind,
      status: environments.status,
      observed: {
        containerId: environments.observedContainerId,
        address: environments.observedAddress,
        port: environments.observedPort,
      },
      routed: {
        containerId: environments.routedContainerId,
        address: environments.routedAddress,
        port: environments.routedPort,
      },
      observedServices: environments.observedServices,
      routedServices: environments.routedServices,
    })
    .from(environments)
    .where(
      and(
        or(
          isNotNull(environments.routedAddress),
          isNotNull(environments.observedAddress),
          isNotNull(environments.routedServices),
          isNotNull(environments.observedServices),
        ),
        notInArray(environments.status, [...GONE_STATUSES]),
      ),
    );
  return rows.flatMap(({ observed, routed, observedServices, routedServices, ...row }) => {
    const services = row.id === promote ? observedServices : routedServices;
    if (services) {
      // a compose environment: one route per service with a port, at the service's own hostname
      return Object.values(services).flatMap((s) =>
        s.hostname && s.port
          ? [{ ...row, hostname: s.hostname, containerId: s.containerId, address: s.address, port: s.port }]
          : [],
      );
    }
    const target = row.id === promote ? observed : routed;
    if (!target.containerId || !target.address || !target.port) return [];
    return [{ ...row, containerId: target.containerId, address: target.address, port: target.port }];
  });
}

/**
 * Whether some deployment is on its way to running (staging, starting or routing, and not parked
 * waiting for its image): its start is what a platform team is waiting on. The literal list matches
 * the partial index `deployments_underway`, which this lookup reads.
 */
export async function deploymentsUnderway(db: Db): Promise<boolean> {
  const [row] = await db
    .select({ id: deployments.id })
    .from(deployments)
    .where(
      sql`${deployments.status} in ('staging', 'starting', 'routing') and ${deployments.statusDetail} is null`,
    )
    .limit(1);
  return row !== undefined;
}
