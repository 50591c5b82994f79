// Postgres: the schema (one table per file), the client, migrations and the driver-error helpers.
export {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  inArray,
  isNotNull,
  isNull,
  lt,
  ne,
  notInArray,
  or,
  type SQL,
  type SQLWrapper,
  sql,
} from "drizzle-orm";
export { createDb, type Db, type DbOrTx, type Sql, type Tx } from "./client.ts";
export { driverError, errorMessage, isUnavailable, isUniqueViolation } from "./errors.ts";
export { GroupCommit } from "./group-commit.ts";
export { dropDatabase, ensureDatabase, MIGRATIONS_DIR, migrateDatabase } from "./migrate.ts";
export { type PipelinedTx, pipelinedTransaction } from "./pipelined-transaction.ts";
export { type PreparedStatement, prepare, runPrepared, statements } from "./prepared.ts";
export { type RawRow, rowOf } from "./raw.ts";
export { rowVersion } from "./row-version.ts";
export { type ApiTokenRow, apiTokens } from "./schema/api-tokens.ts";
export { type CertificateRow, certificateAuthorities, certificates } from "./schema/certificates.ts";
export {
  type DeploymentEventRow,
  type DeploymentRow,
  deploymentEvents,
  deployments,
} from "./schema/deployments.ts";
export {
  type EnvironmentNetworkRow,
  environmentNetworks,
  networkSpares,
} from "./schema/environment-networks.ts";
export { type EnvironmentRow, environments } from "./schema/environments.ts";
export { type ProjectRow, projects } from "./schema/projects.ts";
export { type RuntimeImageRow, runtimeImages } from "./schema/runtime-images.ts";
export { type SwarmPortRow, swarmPorts } from "./schema/swarm-ports.ts";
export { type WebhookDeliveryRow, webhookDeliveries } from "./schema/webhook-deliveries.ts";
export { spareEnvironmentId } from "./spare-id.ts";
