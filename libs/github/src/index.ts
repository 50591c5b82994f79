export * from "./ordering.ts";
export * from "./payloads.ts";
export * from "./policy.ts";
export * from "./preview-image.ts";
export * from "./signature.ts";
export * from "./status.ts";
export * from "./sticky-comment.ts";
export type { DeploymentStatusState } from "./deployment-state.ts";
