export * from "./docker/runtime.ts";
export * from "./health.ts";
export * from "./labels.ts";
export * from "./types.ts";
