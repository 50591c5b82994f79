import {
  and,
  count,
  deploymentEvents,
  deployments,
  type EnvironmentRow,
  environments,
  eq,
  inArray,
  isUniqueViolation,
  lt,
  ne,
  type ProjectRow,
  projects,
  sql,
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
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import { composeAppOf, planServices, primaryServiceOf, type ServicesRequest } from "./compose.ts";

/** Marks every unfinished deployment of an environment older than `generation` superseded. */
export async function supersedeOlder(tx: Tx, environmentId: string, generation: number) {
  const rows = await tx
    .update(deployments)
    .set({ status: "superseded", supersededAt: new Date(), statusDetail: null })
    .where(
      and(
        eq(deployments.environmentId, environmentId),
        lt(deployments.generation, generation),
        inArray(deployments.status, [...UNFINISHED_PHASES]),
      ),
    )
    .returning({ id: deployments.id });
  if (rows.length) {
    await tx
      .insert(deploymentEvents)
      .values(rows.map((r) => ({ deploymentId: r.id, phase: "superseded" as const })));
  }
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

/** A new environment must fit the project's `maxEnvironments`; the project row is locked meanwhile. */
async function assertRoomForOneMore(tx: Tx, project: ProjectRow): Promise<void> {
  // no key update: it serializes quota checks, yet never waits on (nor blocks) the key-share locks
  // foreign keys to the project take, so it cannot deadlock with a concurrent redeploy
  await tx.select({ id: projects.id }).from(projects).where(eq(projects.id, project.id)).for("no key update");
  const [row] = await tx
    .select({ live: count() })
    .from(environments)
    .where(and(eq(environments.projectId, project.id), ne(environments.status, "destroyed")));
  if ((row?.live ?? 0) >= project.maxEnvironments) {
    throw new DomainError(
      "quota_exceeded",
      `project ${project.name} already has ${project.maxEnvironments} environments, its maxEnvironments: destroy one or raise the limit`,
    );
  }
}

/**
 * Inserts the environment, or updates it if it exists. Two requests creating the same environment
 * at once can make the loser trip over the hostname's unique index instead of the (project, name)
 * one the upsert names: the statement is retried then (in a savepoint), and only a hostname held by
 * another project is a conflict.
 */
async function upsertEnvironment(
  tx: Tx,
  project: ProjectRow,
  hostname: string,
  values: typeof environments.$inferInsert,
  set: PgUpdateSetSource<typeof environments>,
): Promise<EnvironmentRow> {
  for (let attempt = 0; ; attempt++) {
    try {
      const [env] = await tx.transaction((sp) =>
        sp
          .insert(environments)
          .values(values)
          .onConflictDoUpdate({ target: [environments.projectId, environments.name], set })
          .returning(),
      );
      if (!env) throw new Error("environment upsert returned nothing");
      return env;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const [holder] = await tx
        .select({ projectId: environments.projectId })
        .from(environments)
        .where(eq(environments.hostname, hostname));
      if ((holder && holder.projectId !== project.id) || attempt >= 2) {
        throw conflict(`hostname ${hostname} is already used by another project`);
      }
    }
  }
}

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

export interface PullRequestFields {
  pullRequest: number;
  headSha: string;
  prState: "open" | "closed";
  prUpdatedAt: Date;
}

/**
 * Inside the caller's transaction: upserts the environment with its new intent (generation bumped),
 * inserts the deployment and supersedes older ones. Enqueue with `enqueueStage` (enqueue.ts) after the commit.
 */
export async function recordDeployment(
  tx: Tx,
  input: {
    project: ProjectRow;
    environment: string;
    requestedBy: string | null;
    pullRequest?: PullRequestFields;
  } & ServicesRequest,
) {
  const { project } = input;
  const { image, services } = intendedImages(project, input);
  for (const requested of new Set([image, ...Object.values(services ?? {}).map((s) => s.image)]))
    assertImageAllowed(project, requested);
  const deploymentId = newId("deployment");
  const hostname = hostnameFor(input.environment, project.domain);
  if (hostname.length > MAX_HOSTNAME) {
    throw badRequest(
      `hostname ${input.environment}.${project.domain} is longer than DNS allows (${MAX_HOSTNAME} characters)`,
    );
  }
  if (services) assertServiceHostnames(project, input.environment);
  const [existing] = await tx
    .select({ status: environments.status })
    .from(environments)
    .where(and(eq(environments.projectId, project.id), eq(environments.name, input.environment)));
  if (!existing || existing.status === "destroyed") await assertRoomForOneMore(tx, project);
  const now = new Date();
  const env = await upsertEnvironment(
    tx,
    project,
    hostname,
    {
      id: newId("environment"),
      projectId: project.id,
      name: input.environment,
      kind: environmentKind(input.environment),
      hostname,
      status: "deploying",
      generation: 1,
      desiredImage: image,
      desiredServices: services,
      currentDeploymentId: deploymentId,
      lastActivityAt: now,
      ...input.pullRequest,
    },
    {
      generation: sql`${environments.generation} + 1`,
      status: "deploying",
      desiredImage: image,
      desiredDigest: null,
      desiredServices: services,
      currentDeploymentId: deploymentId,
      destroyedAt: null,
      lastActivityAt: now,
      updatedAt: now,
      ...input.pullRequest,
    },
  );
  const [deployment] = await tx
    .insert(deployments)
    .values({
      id: deploymentId,
      projectId: project.id,
      environmentId: env.id,
      generation: env.generation,
      image,
      services,
      requestedBy: input.requestedBy,
    })
    .returning();
  if (!deployment) throw new Error("deployment insert returned nothing");
  await tx.insert(deploymentEvents).values({ deploymentId, phase: "queued" });
  await supersedeOlder(tx, env.id, env.generation);
  return { env, deployment };
}

/**
 * Inside the caller's transaction: records the intent to destroy (status `destroying`, generation
 * bumped, no desired image). Returns null when there is nothing to do (already gone or going).
 */
export async function recordTeardown(
  tx: Tx,
  current: EnvironmentRow,
  extra: Partial<typeof environments.$inferInsert> = {},
) {
  if (current.status === "destroyed" || current.status === "destroying") {
    if (Object.keys(extra).length)
      await tx.update(environments).set(extra).where(eq(environments.id, current.id));
    return null;
  }
  const [env] = await tx
    .update(environments)
    .set({
      ...extra,
      status: "destroying",
      generation: sql`${environments.generation} + 1`,
      desiredImage: null,
      desiredDigest: null,
      desiredServices: null,
      currentDeploymentId: null,
    })
    .where(eq(environments.id, current.id))
    .returning();
  if (!env) throw new Error("environment update returned nothing");
  await supersedeOlder(tx, env.id, env.generation);
  return env;
}
