// Every table, for drizzle's relational client and drizzle-kit (one table per file under schema/).
export * from "./schema/api-tokens.ts";
export * from "./schema/certificates.ts";
export * from "./schema/deployments.ts";
export * from "./schema/environment-networks.ts";
export * from "./schema/environments.ts";
export * from "./schema/projects.ts";
export * from "./schema/runtime-images.ts";
export * from "./schema/swarm-ports.ts";
export * from "./schema/webhook-deliveries.ts";
