export { DelayedError, UnrecoverableError } from "bullmq";
export { bestEffortProducer } from "./best-effort.ts";
export { bootWorker, type WorkerDeps } from "./boot.ts";
export {
  type Envelope,
  type EnvelopeInput,
  envelopeSchema,
  type SignedJob,
  signedJobSchema,
} from "./envelope.ts";
export { createLiveJobs, type LiveJobs } from "./live-jobs.ts";
export { inheritedSuffix, jobIds, QUEUES, type QueueName, resyncSuffix, wakeSuffix } from "./names.ts";
export { createProducer, createRedis, DEFAULT_JOB_OPTIONS, type Producer, retryOptions } from "./queues.ts";
export { runScheduledWorker } from "./scheduled.ts";
export {
  createSigner,
  createVerifier,
  generateSigningKey,
  JobRejected,
  keyId,
  parsePublicKeys,
  type RejectReason,
  type Signer,
  type Verifier,
} from "./signing.ts";
export { type JobContext, type RunWorkerOptions, runWorker, shutdownOnSignal } from "./worker.ts";
