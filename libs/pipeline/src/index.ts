// What workers run: the steps of the pipeline, the sweeps and TLS upkeep, and the intent writes and
// enqueue helpers the API shares with them. Each app imports the step it runs.
export { composeAppOf, primaryServiceOf } from "./compose.ts";
export { enqueueNotify, enqueueStage, enqueueTeardown } from "./enqueue.ts";
export { GATEWAY_CHANNEL, noticeGatewayChange } from "./gateway-notice.ts";
export {
  assertHostnameFree,
  type DeploymentRequest,
  environmentKey,
  intentWrites,
  planDeployment,
  quotaExceeded,
  type RecordedDeployment,
  recordDeployment,
  recordTeardown,
  StaleProject,
  sendDeployment,
  sendTeardown,
} from "./intent.ts";
export { refillSparesWhenQuiet } from "./network.ts";
export { type IngressDeps, routeEnvironment, syncGateway } from "./steps/ingress.ts";
export { type NotifyDeps, reportToGithub } from "./steps/notify.ts";
export { type ReconcileDeps, reconcileEnvironment } from "./steps/reconcile.ts";
export { type ResyncDeps, resync } from "./steps/resync.ts";
export { primaryPullAuth } from "./steps/runtime-images.ts";
export { checkIdle, readActivity } from "./steps/sleep.ts";
export { stageImage } from "./steps/stage.ts";
export { type SweepDeps, sweep } from "./steps/sweep.ts";
export { type JanitorDeps, teardownEnvironment } from "./steps/teardown.ts";
export { portRange, postgresPorts } from "./swarm-ports.ts";
export { ChallengeStore } from "./tls/challenges.ts";
export { readLocalCaRoot } from "./tls/local-ca.ts";
export { type CertificateDeps, maintainCertificates } from "./tls/maintain.ts";
