// What the API calls: verbs over intent (one transaction each), the views they answer with, and reading
// TLS state. What workers run lives in @edgeplane/pipeline.
//
// Every verb has one shape, `verb({ ctx, principal, input })`, and authorizes inside itself. The
// public verbs (`hostStatus`, `receiveGithubWebhook`) take no principal: see their comments.
export {
  authenticate,
  authorize,
  generateToken,
  hashToken,
  type Principal,
  safeEqual,
} from "./auth/principal.ts";
export {
  describePrincipal,
  type PrincipalView,
  principalViewSchema,
  type SessionSubject,
  sessionPrincipal,
  sessionSubject,
  sessionSubjectSchema,
} from "./auth/session.ts";
export type { ContainerLogs, ServiceContext } from "./context.ts";
export { getDeployment } from "./deployments/get.ts";
export { listDeployments } from "./deployments/list.ts";
export {
  type RequestDeploymentInput,
  requestDeployment,
  requestDeploymentInput,
} from "./deployments/request.ts";
export { type DeploymentUpdate, watchDeployment } from "./deployments/watch.ts";
export { destroyEnvironment } from "./environments/destroy.ts";
export { listAllEnvironments } from "./environments/list-all.ts";
export {
  type EnvironmentLogsInput,
  environmentLogs,
  LOG_TAIL_DEFAULT,
  LOG_TAIL_MAX,
} from "./environments/logs.ts";
export { getEnvironment, listEnvironments } from "./environments/read.ts";
export {
  type AccessDecision,
  bypassTokenValid,
  forgetProtection,
  gatewayAccess,
} from "./gateway/protection.ts";
export { type WakeState, wakeHost } from "./gateway/wake.ts";
export {
  receiveGithubWebhook,
  type WebhookHeaders,
  type WebhookOutcome,
  webhookOutcomeSchema,
} from "./github/webhook.ts";
export { createMetrics } from "./metrics/collect.ts";
export { scrapeMetrics } from "./metrics/scrape.ts";
export { hostStatus } from "./pages/host-status.ts";
export { createProject } from "./projects/create.ts";
export { getProject, listProjects } from "./projects/read.ts";
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
export {
  type CertificateView,
  certificateView,
  certificateViewSchema,
  listCertificates,
} from "./tls/read.ts";
export {
  type CreatedToken,
  type CreateTokenInput,
  createdTokenSchema,
  createToken,
  createTokenInput,
} from "./tokens/create.ts";
export {
  listTokens,
  type RevokedToken,
  revokedTokenSchema,
  revokeToken,
  type TokenView,
  tokenViewSchema,
} from "./tokens/list.ts";
export {
  type DeploymentDetail,
  type DeploymentView,
  deploymentDetailSchema,
  deploymentView,
  deploymentViewSchema,
  type EnvironmentView,
  environmentView,
  environmentViewSchema,
  type ProjectView,
  projectView,
  projectViewSchema,
  urlOf,
} from "./views.ts";
