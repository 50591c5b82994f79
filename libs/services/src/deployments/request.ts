import { environmentName, imageReference, projectName } from "@edgeplane/domain";
import { enqueueStage, recordDeployment } from "@edgeplane/pipeline";
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
  const { project, env, deployment } = await ctx.db.transaction(async (tx) => {
    const project = await findProjectByName(tx, input.project);
    authorize(principal, "deploy", project.id);
    const recorded = await recordDeployment(tx, {
      project,
      environment: input.environment,
      image: input.image,
      requestedBy: principal.tokenId,
    });
    return { project, ...recorded };
  });
  await enqueueStage(ctx.producer, deployment);
  return deploymentView(deployment, env, project, ctx.urls);
}
