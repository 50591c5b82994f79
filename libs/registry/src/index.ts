export * from "./client.ts";
export * from "./errors.ts";
export * from "./manifest.ts";
export * from "./warm.ts";
