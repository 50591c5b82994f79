import { and, environments, eq } from "@edgeplane/db";
import { notFound } from "@edgeplane/domain";
import { enqueueTeardown, recordTeardown } from "@edgeplane/pipeline";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectByName } from "../projects/find.ts";
import { environmentView } from "../views.ts";

/**
 * Records the intent to destroy, then enqueues the janitor's teardown, which removes the
 * container and route. Destroying twice is harmless.
 */
export async function destroyEnvironment({
  ctx,
  principal,
  input: { project: projectName, environment: name },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { project: string; environment: string };
}) {
  const project = await findProjectByName(ctx.db, projectName);
  authorize(principal, "deploy", project.id);
  const { env, changed } = await ctx.db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(environments)
      .where(and(eq(environments.projectId, project.id), eq(environments.name, name)))
      .for("update");
    if (!current) throw notFound(`environment '${name}'`);
    const env = await recordTeardown(tx, current);
    return { env: env ?? current, changed: env !== null };
  });
  if (changed) await enqueueTeardown(ctx.producer, env);
  return environmentView(env, project, ctx.urls);
}
