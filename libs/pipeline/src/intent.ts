import {
  and,
  type Db,
  type DeploymentRow,
  deploymentEvents,
  deployments,
  type EnvironmentRow,
  environments,
  eq,
  GroupCommit,
  inArray,
  isUniqueViolation,
  lt,
  type PipelinedTx,
  type ProjectRow,
  pipelinedTransaction,
  prepare,
  projects,
  type RawRow,
  rowOf,
  rowVersion,
  runPrepared,
  type SQL,
  type SQLWrapper,
  spareEnvironmentId,
  sql,
  statements,
  type Tx,
} from "@edgeplane/db";
import {
  badRequest,
  conflict,
  type DesiredServices,
  DomainError,
  environmentKind,
  hostnameFor,
  newId,
  parseImageRef,
  UNFINISHED_PHASES,
} from "@edgeplane/domain";
import { composeAppOf, planServices, primaryServiceOf, type ServicesRequest } from "./compose.ts";

/*
 * Intent writes: what a deploy, a pull request event or a teardown changes in Postgres, each in one
 * transaction. The hot ones (every deploy request, every webhook delivery) are statements compiled
 * once (see @edgeplane/db prepare) and sent pipelined (pipelinedTransaction): a redeploy is one
 * round trip, COMMIT included.
 */

const placeholder = (name: string) => sql.placeholder(name) as unknown as SQL;

/**
 * One statement: every unfinished deployment of the environment `environment` selects that is
 * older than the environment's generation is marked superseded, with a `superseded` event each.
 * Returns the ids of those that were still `queued`: their stage jobs have not started, so no
 * worker needs to see them (see enqueueStage). The rows are locked first: a deployment a worker
 * moves on meanwhile (queued → staging) is waited for and read again as it then is, so it is
 * superseded too, and counted as started (its job is the worker's).
 */
function supersedeOlderStatement(environment: SQL | undefined, now: Date | SQL): SQL {
  const at = now instanceof Date ? now.toISOString() : now;
  const older = statements
    .select({ id: deployments.id, status: deployments.status })
    .from(deployments)
    .innerJoin(environments, eq(deployments.environmentId, environments.id))
    .where(
      and(
        environment,
        lt(deployments.generation, environments.generation),
        inArray(deployments.status, [...UNFINISHED_PHASES]),
      ),
    )
    .for("update", { of: deployments });
  return sql`with older as ${older}, superseded as (
      update ${deployments} set status = 'superseded', superseded_at = ${at}::timestamptz,
        status_detail = null, updated_at = ${at}::timestamptz
      from older where ${deployments.id} = older.id
      returning ${deployments.id} as id, older.status as was),
    events as (insert into ${deploymentEvents} (deployment_id, phase) select id, 'superseded' from superseded)
    select id from superseded where was = 'queued'`;
}

/** Refuses an image outside the project's allowed registries/repositories (empty list: any). */
export function assertImageAllowed(project: ProjectRow, image: string): void {
  if (project.allowedImages.length === 0) return;
  const ref = parseImageRef(image);
  const name = `${ref.registry}/${ref.repository}`;
  const allowed = project.allowedImages.some((prefix) =>
    prefix.endsWith("/") ? name.startsWith(prefix) : name === prefix || name.startsWith(`${prefix}/`),
  );
  if (!allowed) throw badRequest(`image ${name} is not in project ${project.name}'s allowedImages`);
}

/** The longest hostname DNS allows (RFC 1035: 253 characters, 63 per label). */
const MAX_HOSTNAME = 253;

/**
 * The images a deploy asks for: one (`image`) for a single-service project; every service's for a
 * compose project, the primary's (or first's) standing for the whole on the rows' `image` columns.
 */
function intendedImages(
  project: ProjectRow,
  request: ServicesRequest,
): { image: string; services: DesiredServices | null } {
  const app = composeAppOf(project);
  if (!app) {
    if (request.images !== undefined || request.env !== undefined)
      throw badRequest(
        `images, env: project ${project.name} has no compose file: deploy one image with image`,
      );
    if (request.image === undefined) throw badRequest("image: required");
    return { image: request.image, services: null };
  }
  const { services, primaryImage } = planServices(project, app, request);
  return { image: primaryImage, services };
}

/**
 * Every routed service but the primary answers at `{service}--{environment}`: a label DNS must
 * allow (63 characters), and one an environment name cannot also produce.
 */
function assertServiceHostnames(project: ProjectRow, environment: string): void {
  if (environment.includes("--"))
    throw badRequest(
      `environment: ${environment} contains "--", which marks service hostnames ({service}--{environment}) in a compose project`,
    );
  const app = composeAppOf(project);
  const primary = app ? primaryServiceOf(project, app) : null;
  for (const s of app?.services ?? []) {
    if (s.port === null || s.name === primary) continue;
    const label = `${s.name}--${environment}`;
    if (label.length > 63 || `${label}.${project.domain}`.length > MAX_HOSTNAME)
      throw badRequest(
        `environment: service ${s.name}'s hostname ${label}.${project.domain} is longer than DNS allows (63 characters per label): use a shorter environment name`,
      );
  }
}

/** What a deploy asks of an environment, checked against its project before anything is written. */
export interface DeploymentPlan {
  image: string;
  services: DesiredServices | null;
  hostname: string;
}

/**
 * The images a deploy runs and the environment's hostname, once the request passed every check of
 * its project (allowed images, compose services, hostname lengths); throws bad request otherwise.
 */
export function planDeployment(
  project: ProjectRow,
  input: { environment: string } & ServicesRequest,
): DeploymentPlan {
  const { image, services } = intendedImages(project, input);
  for (const requested of new Set([image, ...Object.values(services ?? {}).map((s) => s.image)]))
    assertImageAllowed(project, requested);
  const hostname = hostnameFor(input.environment, project.domain);
  if (hostname.length > MAX_HOSTNAME) {
    throw badRequest(
      `hostname ${input.environment}.${project.domain} is longer than DNS allows (${MAX_HOSTNAME} characters)`,
    );
  }
  if (services) assertServiceHostnames(project, input.environment);
  return { image, services, hostname };
}

export interface PullRequestFields {
  pullRequest: number;
  headSha: string;
  prState: "open" | "closed";
  prUpdatedAt: Date;
}

export interface DeploymentRequest extends ServicesRequest {
  project: ProjectRow;
  /**
   * The version (`xmin`) of the project row the request was checked against: nothing is written
   * unless the project is still at it (see StaleProject), so the row may come from a cache.
   */
  projectVersion: string;
  environment: string;
  requestedBy: string | null;
  pullRequest?: PullRequestFields;
}

/** The project changed since the row a deploy was checked against was read: check it again. */
export class StaleProject extends Error {
  override name = "StaleProject";
}

const projectVersion = rowVersion(projects);

export interface RecordedDeployment {
  env: EnvironmentRow;
  deployment: DeploymentRow;
  /** Deployments this one superseded before their stage job started (see enqueueStage). */
  superseded: string[];
}

/** The columns a pull request event sets on its environment (`PullRequestFields`), and their values. */
const PULL_REQUEST_COLUMNS = ["pull_request", "head_sha", "pr_state", "pr_updated_at"] as const;
const PULL_REQUEST_VALUES = sql`${placeholder("pullRequest")}::integer, ${placeholder("headSha")},
  ${placeholder("prState")}, ${placeholder("prUpdatedAt")}::timestamptz`;

/** The statements of a deploy, compiled once: with a pull request's fields (webhook) or without. */
function deploymentStatements(withPullRequest: boolean) {
  const environment = and(
    eq(environments.projectId, placeholder("projectId")),
    eq(environments.name, placeholder("environment")),
  );
  // the environment row as this deploy left it, found by the deployment it now points at
  const current = and(environment, eq(environments.currentDeploymentId, placeholder("deploymentId")));
  const projectUnchanged = sql`exists (select 1 from ${projects} where ${projects.id} = ${placeholder("projectId")}
    and ${projectVersion} = ${placeholder("projectVersion")})`;
  const prColumns = withPullRequest ? sql.raw(`, ${PULL_REQUEST_COLUMNS.join(", ")}`) : sql``;
  const prValues = withPullRequest ? sql`, ${PULL_REQUEST_VALUES}` : sql``;
  const prSet = withPullRequest
    ? sql.raw(`, ${PULL_REQUEST_COLUMNS.map((c) => `${c} = excluded.${c}`).join(", ")}`)
    : sql``;
  return {
    /** An environment that exists and is not destroyed: its intent replaced, generation bumped. */
    redeploy: prepare(
      statements
        .update(environments)
        .set({
          generation: sql`${environments.generation} + 1`,
          status: "deploying",
          desiredImage: placeholder("image"),
          desiredDigest: null,
          desiredServices: placeholder("services"),
          currentDeploymentId: placeholder("deploymentId"),
          destroyedAt: null,
          lastActivityAt: placeholder("now"),
          updatedAt: placeholder("now"),
          ...(withPullRequest
            ? {
                pullRequest: placeholder("pullRequest"),
                headSha: placeholder("headSha"),
                prState: placeholder("prState"),
                prUpdatedAt: placeholder("prUpdatedAt"),
              }
            : {}),
        })
        .where(and(environment, sql`${environments.status} <> 'destroyed'`, projectUnchanged))
        .returning(),
    ),
    /**
     * Any environment, after LOCK_PROJECT: created, revived or redeployed, unless that would make
     * one live environment more than the project's `maxEnvironments` (then nothing is written). The
     * count runs after the project's lock is granted, so concurrent creations cannot both fit.
     */
    create: prepare(sql`insert into ${environments} (id, project_id, name, kind, hostname, status,
        generation, desired_image, desired_services, current_deployment_id, last_activity_at${prColumns})
      select ${spareEnvironmentId(placeholder("environmentId"))}, ${placeholder("projectId")}, ${placeholder("environment")},
        ${placeholder("kind")}, ${placeholder("hostname")}, 'deploying', 1, ${placeholder("image")},
        ${placeholder("servicesJson")}::jsonb, ${placeholder("deploymentId")}, ${placeholder("now")}::timestamptz${prValues}
      where ${projectUnchanged} and (
        (select count(*) from ${environments} where ${environments.projectId} = ${placeholder("projectId")}
          and ${environments.status} <> 'destroyed') < ${placeholder("maxEnvironments")}
        or exists (select 1 from ${environments} where ${environment} and ${environments.status} <> 'destroyed'))
      on conflict (project_id, name) do update set generation = ${environments.generation} + 1,
        status = 'deploying', desired_image = excluded.desired_image, desired_digest = null,
        desired_services = excluded.desired_services, current_deployment_id = excluded.current_deployment_id,
        destroyed_at = null, last_activity_at = excluded.last_activity_at,
        updated_at = excluded.last_activity_at${prSet}
      returning *`),
    deployment: prepare(sql`with deployment as (
        insert into ${deployments} (id, project_id, environment_id, generation, image, services, requested_by)
        select ${placeholder("deploymentId")}, ${environments.projectId}, ${environments.id},
          ${environments.generation}, ${placeholder("image")}, ${placeholder("servicesJson")}::jsonb,
          ${placeholder("requestedBy")}
        from ${environments} where ${current}
        returning *
      ), queued as (
        insert into ${deploymentEvents} (deployment_id, phase) select id, 'queued' from deployment
      )
      select * from deployment`),
    supersede: prepare(supersedeOlderStatement(current, placeholder("now"))),
  };
}

const DEPLOYMENT = { plain: deploymentStatements(false), pullRequest: deploymentStatements(true) };

/**
 * Locks the project row for the rest of the transaction: creations of its environments take turns,
 * so each counts the ones before it. No key update: it never waits on (nor blocks) the key-share
 * locks foreign keys to the project take, so it cannot deadlock with a concurrent redeploy.
 * Returns the project's version, as the lock found it.
 */
const LOCK_PROJECT = prepare(
  sql`select ${projectVersion} as version from ${projects}
    where ${projects.id} = ${placeholder("projectId")} for no key update`,
);

/**
 * Sends a deploy's statements on `tx` without waiting between them: the environment's intent
 * replaced (generation bumped; this takes its row lock), the deployment and its `queued` event
 * inserted, then, in a statement of its own so that it sees every deployment committed before the
 * lock was granted, every older unfinished deployment superseded. `redeploy` only touches an
 * environment that exists and is not destroyed (every deploy but an environment's first);
 * `create` takes the project's lock and creates or revives it within the project's quota. Resolves
 * to null, having changed nothing, when there is no such environment or the project changed
 * (`redeploy`: `create` tells which), or when there is no room for one more (`create`); rejects
 * with StaleProject, having changed nothing, when `create` finds the project changed. Every
 * statement is on the wire when this returns, so the caller's COMMIT can follow them in the same
 * round trip.
 */
export function sendDeployment(
  tx: PipelinedTx,
  input: DeploymentRequest,
  plan: DeploymentPlan,
  mode: "redeploy" | "create",
  deploymentId = newId("deployment"),
): Promise<RecordedDeployment | null> {
  const prepared = input.pullRequest ? DEPLOYMENT.pullRequest : DEPLOYMENT.plain;
  const values = {
    projectId: input.project.id,
    projectVersion: input.projectVersion,
    environment: input.environment,
    environmentId: mode === "create" ? newId("environment") : null,
    kind: environmentKind(input.environment),
    hostname: plan.hostname,
    maxEnvironments: input.project.maxEnvironments,
    deploymentId,
    image: plan.image,
    services: plan.services,
    servicesJson: plan.services === null ? null : JSON.stringify(plan.services),
    requestedBy: input.requestedBy,
    now: new Date(),
    ...input.pullRequest,
  };
  const locked = mode === "create" ? tx.send(LOCK_PROJECT, values) : Promise.resolve([]);
  const written = tx.send(mode === "create" ? prepared.create : prepared.redeploy, values);
  const deployment = tx.send(prepared.deployment, values);
  const superseded = tx.send(prepared.supersede, values);
  return Promise.all([locked, written, deployment, superseded]).then(([[project], [env], [row], old]) => {
    if (env && row)
      return {
        env: rowOf(environments, env),
        deployment: rowOf(deployments, row),
        superseded: old.map((r) => String(r.id)),
      };
    if (mode === "create" && project?.version !== input.projectVersion) throw new StaleProject();
    return null;
  });
}

export function quotaExceeded(project: ProjectRow): DomainError {
  return new DomainError(
    "quota_exceeded",
    `project ${project.name} already has ${project.maxEnvironments} environments, its maxEnvironments: destroy one or raise the limit`,
  );
}

const HOSTNAME_HOLDER = prepare(
  statements
    .select({ projectId: environments.projectId })
    .from(environments)
    .where(eq(environments.hostname, placeholder("hostname"))),
);

/**
 * After a unique violation creating an environment: a hostname held by another project is a
 * conflict. Held by this one, two requests created the environment at once, and the caller
 * retries (at most twice), which then redeploys what the other created.
 */
export async function assertHostnameFree(db: Db, project: ProjectRow, hostname: string, attempt: number) {
  const [holder] = await runPrepared(db, HOSTNAME_HOLDER, { hostname });
  if ((holder && holder.project_id !== project.id) || attempt >= 2) {
    throw conflict(`hostname ${hostname} is already used by another project`);
  }
}

const groups = new WeakMap<Db, GroupCommit>();

/**
 * The intent writes of one database that are group-committed (see GroupCommit): every redeploy,
 * every webhook delivery. Under load, the ones that arrive while a transaction of them commits go
 * together in the next.
 */
export function intentWrites(db: Db): GroupCommit {
  let group = groups.get(db);
  if (!group) {
    group = new GroupCommit(db);
    groups.set(db, group);
  }
  return group;
}

/** What a write to one environment is keyed by in a group commit (see GroupCommit). */
export const environmentKey = (projectId: string, environment: string) => `${projectId}/${environment}`;

/**
 * Records a deploy's intent, then the caller enqueues its stage job (`enqueueStage`, enqueue.ts). A
 * redeploy is one round trip, group-committed with the redeploys that arrive meanwhile (see
 * intentWrites); an environment's first deploy a second one, in a transaction of its own, that
 * creates it within the project's quota. Throws StaleProject, having written
 * nothing, if the project is no longer at `projectVersion`.
 */
export async function recordDeployment(
  db: Db,
  input: DeploymentRequest,
  plan = planDeployment(input.project, input),
): Promise<RecordedDeployment> {
  // the deploy's statements and COMMIT, in one round trip
  const write = (mode: "redeploy" | "create") => async (tx: PipelinedTx) => {
    const [recorded] = await Promise.all([sendDeployment(tx, input, plan, mode), tx.commit()]);
    return recorded;
  };
  // a redeploy that finds no environment to redeploy writes nothing
  const key = environmentKey(input.project.id, input.environment);
  const redeployed = await intentWrites(db).run([key], write("redeploy"));
  if (redeployed) return redeployed;
  for (let attempt = 0; ; attempt++) {
    try {
      const created = await pipelinedTransaction(db, write("create"));
      if (!created) throw quotaExceeded(input.project);
      return created;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await assertHostnameFree(db, input.project, plan.hostname, attempt);
    }
  }
}

/** What a teardown sets on an environment that is not already going: no intent, generation bumped. */
function teardownStatement(environmentId: string, extra: Partial<typeof environments.$inferInsert>) {
  return statements
    .update(environments)
    .set({
      ...extra,
      status: "destroying",
      generation: sql`${environments.generation} + 1`,
      desiredImage: null,
      desiredDigest: null,
      desiredServices: null,
      currentDeploymentId: null,
      updatedAt: new Date(),
    })
    .where(eq(environments.id, environmentId))
    .returning();
}

/**
 * Records the intent to destroy (status `destroying`, generation bumped, no desired image, older
 * deployments superseded) with `run`, a transaction's way of running a statement. Its statements
 * are all sent before any answer is awaited. Resolves to null when there is nothing to do (already
 * gone or going; `extra` is still written).
 */
function teardownWith(
  run: (statement: SQLWrapper) => Promise<RawRow[]>,
  current: EnvironmentRow,
  extra: Partial<typeof environments.$inferInsert>,
): Promise<EnvironmentRow | null> {
  if (current.status === "destroyed" || current.status === "destroying") {
    if (Object.keys(extra).length === 0) return Promise.resolve(null);
    return run(statements.update(environments).set(extra).where(eq(environments.id, current.id))).then(
      () => null,
    );
  }
  const updated = run(teardownStatement(current.id, extra));
  const superseded = run(supersedeOlderStatement(eq(environments.id, current.id), new Date()));
  return Promise.all([updated, superseded]).then(([[env]]) => {
    if (!env) throw new Error("environment update returned nothing");
    return rowOf(environments, env);
  });
}

/** `teardownWith` inside the caller's transaction. */
export function recordTeardown(
  tx: Tx,
  current: EnvironmentRow,
  extra: Partial<typeof environments.$inferInsert> = {},
): Promise<EnvironmentRow | null> {
  return teardownWith((statement) => tx.execute(statement.getSQL()) as Promise<RawRow[]>, current, extra);
}

/** `teardownWith` on a pipelined transaction: on the wire when this returns. */
export function sendTeardown(
  tx: PipelinedTx,
  current: EnvironmentRow,
  extra: Partial<typeof environments.$inferInsert> = {},
): Promise<EnvironmentRow | null> {
  return teardownWith((statement) => tx.send(statement), current, extra);
}
