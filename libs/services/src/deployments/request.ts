import { DomainError, environmentName, imageReference, projectName } from "@edgeplane/domain";
import { enqueueStage, recordDeployment, StaleProject } from "@edgeplane/pipeline";
import { z } from "zod";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectForWrite } from "../projects/find.ts";
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
 * Records the intent (environment + deployment rows, generation bumped, older deployments
 * superseded) in one transaction, then enqueues the signed stage job. The caller answers 202 only
 * after this resolves. A redeploy is one round trip to Postgres, its statements and COMMIT
 * pipelined (see recordDeployment): the project comes from what this process last read of it, and
 * the writes only happen if that is still the project's current version; if not, it is read again
 * and the request checked again. A request is only ever refused on the grounds of a fresh read.
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
  for (let attempt = 0; ; attempt++) {
    const project = await findProjectForWrite(ctx.db, input.project, { fresh: attempt > 0 });
    try {
      authorize(principal, "deploy", project.row.id);
      const { env, deployment, superseded } = await recordDeployment(ctx.db, {
        project: project.row,
        projectVersion: project.version,
        environment: input.environment,
        image: input.image,
        images: input.images,
        env: input.env,
        requestedBy: principal.tokenId,
      });
      await enqueueStage(ctx.producer, deployment, superseded);
      return deploymentView(deployment, env, project.row, ctx.urls);
    } catch (error) {
      // the project changed meanwhile (nothing was written), or a refusal rests on a cached row:
      // again with the project as it is now
      const recheck = error instanceof StaleProject || (error instanceof DomainError && project.cached);
      if (!recheck || attempt >= 2) throw error;
    }
  }
}
