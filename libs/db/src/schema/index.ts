export * from "./api-tokens.ts";
export * from "./deployments.ts";
export * from "./environments.ts";
export * from "./projects.ts";
export * from "./webhook-deliveries.ts";
