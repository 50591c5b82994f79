export * from "./envelope.ts";
export * from "./names.ts";
export * from "./queues.ts";
export * from "./signing.ts";
export * from "./worker.ts";
export { DelayedError, UnrecoverableError } from "bullmq";
export * from "./scheduled.ts";
export * from "./best-effort.ts";
export * from "./live-jobs.ts";
