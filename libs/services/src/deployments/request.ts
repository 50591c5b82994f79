import {
  and,
  deploymentEvents,
  deployments,
  environments,
  inArray,
  lt,
  newId,
  sql,
  type Tx,
  TERMINAL_PHASES,
} from "@edgeplane/db";
import { conflict, environmentKind, environmentName, hostnameFor, imageReference, projectName } from "@edgeplane/domain";
import { jobIds, QUEUES } from "@edgeplane/queue";
import { z } from "zod";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectByName } from "../projects/find.ts";
import { deploymentView } from "../views.ts";

export const requestDeploymentInput = z.strictObject({
  project: projectName,
  environment: environmentName,
  image: imageReference,
});
export type RequestDeploymentInput = z.infer<typeof requestDeploymentInput>;

const NON_TERMINAL = ["queued", "staging", "starting", "routing"] as const;

/** Marks every unfinished deployment of an environment older than `generation` superseded. */
export async function supersedeOlder(tx: Tx, environmentId: string, generation: number) {
  const rows = await tx
    .update(deployments)
    .set({ status: "superseded", supersededAt: new Date() })
    .where(
      and(
        sql`${deployments.environmentId} = ${environmentId}`,
        lt(deployments.generation, generation),
        inArray(deployments.status, [...NON_TERMINAL]),
      ),
    )
    .returning({ id: deployments.id });
  if (rows.length) {
    await tx.insert(deploymentEvents).values(rows.map((r) => ({ deploymentId: r.id, phase: "superseded" as const })));
  }
}

/**
 * Records the intent (environment + deployment rows, generation bumped) in one transaction,
 * then enqueues the signed stage job. The caller answers 202 only after this resolves.
 */
export async function requestDeployment({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: RequestDeploymentInput;
}) {
  const result = await ctx.db.transaction(async (tx) => {
    const project = await findProjectByName(tx, input.project);
    authorize(principal, "deploy", project.id);
    const deploymentId = newId("deployment");
    const hostname = hostnameFor(input.environment, project.domain);
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
          updatedAt: new Date(),
        },
      })
      .returning()
      .catch((error: { code?: string; constraint_name?: string }) => {
        if (error.code === "23505") throw conflict(`hostname ${hostname} is already used by another project`);
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
        requestedBy: principal.tokenId,
      })
      .returning();
    if (!deployment) throw new Error("deployment insert returned nothing");
    await tx.insert(deploymentEvents).values({ deploymentId, phase: "queued" });
    await supersedeOlder(tx, env.id, env.generation);
    return { project, env, deployment };
  });

  const { project, env, deployment } = result;
  await ctx.producer.enqueue(
    QUEUES.stage,
    {
      deploymentId: deployment.id,
      environmentId: env.id,
      projectId: project.id,
      generation: deployment.generation,
      image: deployment.image,
    },
    jobIds.stage(deployment.id),
  );
  return deploymentView(deployment, env, project, ctx.urls);
}

export { TERMINAL_PHASES };
