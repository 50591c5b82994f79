import { boolean, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, updatedAt } from "./columns.ts";

export const projects = pgTable(
  "projects",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull().unique(),
    domain: text("domain").notNull(),
    port: integer("port").notNull(),
    healthcheckPath: text("healthcheck_path").notNull().default("/"),
    env: jsonb("env").$type<Record<string, string>>().notNull().default({}),
    /** GitHub `owner/repo` whose pull requests drive preview environments. */
    repository: text("repository"),
    /** HMAC key for X-Hub-Signature-256. Write-only through the API; never returned or logged. */
    webhookSecret: text("webhook_secret"),
    /** Image template for previews: `{number}`, `{sha}`, `{branch}`. Null: wait for CI's deploy request. */
    previewImage: text("preview_image"),
    previewTtlHours: integer("preview_ttl_hours").notNull().default(72),
    deployDrafts: boolean("deploy_drafts").notNull().default(false),
    requiredLabel: text("required_label"),
    allowForks: boolean("allow_forks").notNull().default(false),
    /** `host/repository-prefix` entries a deploy may name; empty: any image. */
    allowedImages: text("allowed_images").array().notNull().default([]),
    /**
     * Registry credentials of this project, sealed to the staging worker's key (the API stores them
     * and cannot read them back); presented only for this project's deployments. Null: none.
     */
    registryCredentials: text("registry_credentials"),
    /** The registries `registryCredentials` holds credentials for: what the API shows of them. */
    registryCredentialHosts: text("registry_credential_hosts").array().notNull().default([]),
    /** The compose file as given (YAML); null: one container per environment, from `port`. */
    compose: text("compose"),
    /** It parsed and checked (`@edgeplane/compose`'s ComposeApp): what deploys read. */
    composeSpec: jsonb("compose_spec").$type<Record<string, unknown>>(),
    /** The service answering at `{env}.{domain}`; default: the first with a port. */
    primaryService: text("primary_service"),
    /** Image templates per service for pull request previews (`{number}`, `{sha}`, `{branch}`). */
    previewImages: jsonb("preview_images").$type<Record<string, string>>(),
    /** What all of one environment's services may use together. */
    environmentMemoryMb: integer("environment_memory_mb").notNull().default(4096),
    environmentCpuMillis: integer("environment_cpu_millis").notNull().default(8000),
    /**
     * Who may reach the project's hosts through the gateway: `{ mode: "off" }` or `{ mode: "basic",
     * username, passwordHash (scrypt), scope: "previews" | "all" }` (checked by the API per request).
     */
    protection: jsonb("protection").$type<Record<string, unknown>>().notNull().default({ mode: "off" }),
    /** SHA-256 (hex) of the token automation sends to pass protection; write-only. Null: none. */
    bypassTokenHash: text("bypass_token_hash"),
    /** Previews with no request through the gateway for this long are put to sleep; 0: never. */
    sleepAfterSeconds: integer("sleep_after_seconds").notNull().default(0),
    /** Fixed environments (dev, staging, prod) sleep too. */
    sleepFixed: boolean("sleep_fixed").notNull().default(false),
    /** Resource limits for every container of the project. */
    memoryMb: integer("memory_mb").notNull().default(512),
    cpuMillis: integer("cpu_millis").notNull().default(1000),
    /** How many environments (not destroyed) the project may have; one more is refused. */
    maxEnvironments: integer("max_environments").notNull().default(50),
    /** TLS at the gateway: `{ mode: "off" | "local" | "acme", ... }` (validated by the API's schema). */
    tls: jsonb("tls").$type<Record<string, unknown>>().notNull().default({ mode: "off" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("projects_repository").on(t.repository)],
);
export type ProjectRow = typeof projects.$inferSelect;
