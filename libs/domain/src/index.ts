// The names, lifecycles and rules of edgeplane, with no dependencies of their own: every other lib
// takes these facts from here.
export { DNS_LABEL_MESSAGE, hostFromHeader, isDnsLabel, isDnsName } from "./dns.ts";
export {
  badRequest,
  conflict,
  DomainError,
  ERROR_CODES,
  type ErrorCode,
  forbidden,
  notFound,
} from "./errors.ts";
export { ID_PREFIXES, type IdKind, idSchema, isId, newId } from "./ids.ts";
export {
  formatImageRef,
  type ImageRef,
  ImageRefError,
  imageReference,
  parseImageRef,
  pinnedRef,
} from "./image-ref.ts";
export {
  DEPLOYMENT_PHASES,
  type DeploymentPhase,
  ENVIRONMENT_KINDS,
  ENVIRONMENT_STATUSES,
  type EnvironmentKind,
  type EnvironmentStatus,
  GONE_STATUSES,
  isGone,
  isTerminalPhase,
  isUnfinishedPhase,
  TERMINAL_PHASES,
  type TerminalPhase,
  TOKEN_SCOPES,
  type TokenScope,
  UNFINISHED_PHASES,
  type UnfinishedPhase,
} from "./lifecycle.ts";
export { dnsLabel, domainName, environmentKind, environmentName, hostnameFor, projectName } from "./names.ts";
export { type EdgeRegistry, runtimeRef, servedByEdge } from "./runtime-ref.ts";
export {
  type DesiredService,
  type DesiredServices,
  environmentHostnameOf,
  type ObservedService,
  type ObservedServices,
  serviceHostname,
} from "./services.ts";
export { environmentUrl, type PublicUrls } from "./urls.ts";
