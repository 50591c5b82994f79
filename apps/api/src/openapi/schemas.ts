import {
  certificateViewSchema,
  createdTokenSchema,
  deploymentDetailSchema,
  deploymentViewSchema,
  environmentViewSchema,
  projectViewSchema,
  revokedTokenSchema,
  tokenViewSchema,
  webhookOutcomeSchema,
} from "@edgeplane/services";

// The views the verbs answer with, named once for the document's components.
export const projectSchema = projectViewSchema.meta({ id: "Project" });
export const environmentSchema = environmentViewSchema.meta({ id: "Environment" });
export const deploymentSchema = deploymentViewSchema.meta({ id: "Deployment" });
export const deploymentDetailOpenApi = deploymentDetailSchema.meta({ id: "DeploymentDetail" });
export const certificateSchema = certificateViewSchema.meta({ id: "Certificate" });
export const tokenSchema = tokenViewSchema.meta({ id: "Token" });
export const createdTokenOpenApi = createdTokenSchema.meta({ id: "CreatedToken" });
export const revokedTokenOpenApi = revokedTokenSchema.meta({ id: "RevokedToken" });
export const webhookOutcomeOpenApi = webhookOutcomeSchema.meta({ id: "WebhookOutcome" });

/** A JSON response entry for `responses`. */
export function json<S>(description: string, schema: S) {
  return { description, content: { "application/json": { schema } } };
}
