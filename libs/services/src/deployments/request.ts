import { environmentName, imageReference, projectName } from "@edgeplane/domain";
import { enqueueStage, recordDeployment } from "@edgeplane/pipeline";
import { z } from "zod";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectByName } from "../projects/find.ts";
import { envVarName, serviceName } from "../projects/schemas.ts";
import { deploymentView } from "../views.ts";

/** `image` is required, except in a compose project, whose file may name every service's image. */
export const requestDeploymentInput = z.strictObject({
  project: projectName,
  environment: environmentName,
  /** The image to run; in a compose project, the primary service's. */
  image: imageReference.optional(),
  /** A compose project: images per service; services not named run their compose file's image. */
  images: z
    .record(serviceName, imageReference)
    .refine((v) => Object.keys(v).length <= 20, "at most 20 services")
    .optional(),
  /** A compose project: values per service, set over the compose file's `environment`. */
  env: z
    .record(
      serviceName,
      z
        .record(envVarName, z.string().max(8192))
        .refine((v) => Object.keys(v).length <= 200, "at most 200 variables"),
    )
    .optional(),
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
      images: input.images,
      env: input.env,
      requestedBy: principal.tokenId,
    });
    return { project, ...recorded };
  });
  await enqueueStage(ctx.producer, deployment);
  return deploymentView(deployment, env, project, ctx.urls);
}
