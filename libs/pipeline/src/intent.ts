import {
  and,
  deploymentEvents,
  deployments,
  type EnvironmentRow,
  environments,
  eq,
  inArray,
  isUniqueViolation,
  lt,
  type ProjectRow,
  sql,
  type Tx,
} from "@edgeplane/db";
import {
  badRequest,
  conflict,
  environmentKind,
  hostnameFor,
  newId,
  parseImageRef,
  UNFINISHED_PHASES,
} from "@edgeplane/domain";

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
    image: string;
    requestedBy: string | null;
    pullRequest?: PullRequestFields;
  },
) {
  const { project } = input;
  assertImageAllowed(project, input.image);
  const deploymentId = newId("deployment");
  const hostname = hostnameFor(input.environment, project.domain);
  const now = new Date();
  const [env] = await tx
    .insert(environments)
    .values({
      id: newId("environment"),
      projectId: project.id,
      name: input.environment,
      kind: environmentKind(input.environment),
      hostname,
      status: "deploying",
      generation: 1,
      desiredImage: input.image,
      currentDeploymentId: deploymentId,
      lastActivityAt: now,
      ...input.pullRequest,
    })
    .onConflictDoUpdate({
      target: [environments.projectId, environments.name],
      set: {
        generation: sql`${environments.generation} + 1`,
        status: "deploying",
        desiredImage: input.image,
        desiredDigest: null,
        currentDeploymentId: deploymentId,
        destroyedAt: null,
        lastActivityAt: now,
        updatedAt: now,
        ...input.pullRequest,
      },
    })
    .returning()
    .catch((error: unknown) => {
      if (isUniqueViolation(error)) throw conflict(`hostname ${hostname} is already used by another project`);
      throw error;
    });
  if (!env) throw new Error("environment upsert returned nothing");
  const [deployment] = await tx
    .insert(deployments)
    .values({
      id: deploymentId,
      projectId: project.id,
      environmentId: env.id,
      generation: env.generation,
      image: input.image,
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
      currentDeploymentId: null,
    })
    .where(eq(environments.id, current.id))
    .returning();
  if (!env) throw new Error("environment update returned nothing");
  await supersedeOlder(tx, env.id, env.generation);
  return env;
}
