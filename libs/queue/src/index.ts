export * from "./envelope.ts";
export * from "./names.ts";
export * from "./queues.ts";
export * from "./signing.ts";
export * from "./worker.ts";
export { UnrecoverableError } from "bullmq";
export * from "./scheduled.ts";
