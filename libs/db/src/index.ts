// Postgres: the schema (one table per file), the client, migrations and the driver-error helpers.
export { and, asc, desc, eq, inArray, isNotNull, isNull, lt, ne, notInArray, or, sql } from "drizzle-orm";
export { createDb, type Db, type DbOrTx, type Sql, type Tx } from "./client.ts";
export { driverError, errorMessage, isUnavailable, isUniqueViolation } from "./errors.ts";
export { dropDatabase, ensureDatabase, migrateDatabase, MIGRATIONS_DIR } from "./migrate.ts";
export { type ApiTokenRow, apiTokens } from "./schema/api-tokens.ts";
export { certificateAuthorities, type CertificateRow, certificates } from "./schema/certificates.ts";
export { type DeploymentEventRow, deploymentEvents, type DeploymentRow, deployments } from "./schema/deployments.ts";
export { type EnvironmentRow, environments } from "./schema/environments.ts";
export { type ProjectRow, projects } from "./schema/projects.ts";
export { type RuntimeImageRow, runtimeImages } from "./schema/runtime-images.ts";
export { webhookDeliveries, type WebhookDeliveryRow } from "./schema/webhook-deliveries.ts";
