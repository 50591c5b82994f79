export * from "./api-tokens.ts";
export * from "./certificates.ts";
export * from "./deployments.ts";
export * from "./environments.ts";
export * from "./projects.ts";
export * from "./runtime-images.ts";
export * from "./webhook-deliveries.ts";
