// What the API calls: verbs over intent (one transaction each), the views they answer with, and reading
// TLS state. What workers run lives in @edgeplane/pipeline.
export {
  authenticate,
  authorize,
  generateToken,
  hashToken,
  type Principal,
  safeEqual,
} from "./auth/principal.ts";
export type { ServiceContext } from "./context.ts";
export { getDeployment } from "./deployments/get.ts";
export {
  type RequestDeploymentInput,
  requestDeployment,
  requestDeploymentInput,
} from "./deployments/request.ts";
export { destroyEnvironment } from "./environments/destroy.ts";
export { listAllEnvironments } from "./environments/list-all.ts";
export { getEnvironment, listEnvironments } from "./environments/read.ts";
export { receiveGithubWebhook, type WebhookHeaders, type WebhookOutcome } from "./github/webhook.ts";
export { createMetrics } from "./metrics/collect.ts";
export { hostStatus } from "./pages/host-status.ts";
export { createProject } from "./projects/create.ts";
export { findProjectByName, listProjects } from "./projects/find.ts";
export {
  allowedImagePrefix,
  type CreateProjectInput,
  createProjectInput,
  repositoryName,
  type UpdateProjectInput,
  updateProjectInput,
} from "./projects/schemas.ts";
export { updateProject } from "./projects/update.ts";
export { localCaRoot } from "./tls/ca-root.ts";
export { certificateView, listCertificates } from "./tls/read.ts";
export { type CreateTokenInput, createToken, createTokenInput } from "./tokens/create.ts";
export { listTokens, revokeToken } from "./tokens/list.ts";
export { deploymentView, environmentView, projectView, urlOf } from "./views.ts";
