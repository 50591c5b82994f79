import { and, environments, eq, sql } from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";
import { jobIds, QUEUES } from "@edgeplane/queue";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { supersedeOlder } from "../deployments/request.ts";
import { findProjectByName } from "../projects/find.ts";
import { environmentView } from "../views.ts";

/**
 * Records the intent to destroy (status `destroying`, generation bumped, no desired image), then
 * enqueues the reconcile that removes the container and route. Destroying twice is harmless.
 */
export async function destroyEnvironment({
  ctx,
  principal,
  project: projectName,
  name,
}: {
  ctx: ServiceContext;
  principal: Principal;
  project: string;
  name: string;
}) {
  const { project, env } = await ctx.db.transaction(async (tx) => {
    const project = await findProjectByName(tx, projectName);
    authorize(principal, "deploy", project.id);
    const [current] = await tx
      .select()
      .from(environments)
      .where(and(eq(environments.projectId, project.id), eq(environments.name, name)))
      .for("update");
    if (!current) throw notFound(`environment '${name}'`);
    if (current.status === "destroyed" || current.status === "destroying") return { project, env: current };
    const [env] = await tx
      .update(environments)
      .set({
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
    return { project, env };
  });
  if (env.status === "destroying") {
    await ctx.producer.enqueue(
      QUEUES.reconcile,
      { deploymentId: null, environmentId: env.id, projectId: project.id, generation: env.generation, image: null },
      jobIds.reconcile(env.id, env.generation),
    );
  }
  return environmentView(env, project, ctx.urls);
}
