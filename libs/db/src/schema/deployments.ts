import type { DeploymentPhase, DesiredServices } from "@edgeplane/domain";
import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { at, createdAt, updatedAt } from "./columns.ts";
import { environments } from "./environments.ts";
import { projects } from "./projects.ts";

export const deployments = pgTable(
  "deployments",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id),
    environmentId: text("environment_id")
      .notNull()
      .references(() => environments.id),
    generation: integer("generation").notNull(),
    /** The image of the (primary) service. */
    image: text("image").notNull(),
    digest: text("digest"),
    /** A compose project's deployment: every service's image, digest once staged, and values. */
    services: jsonb("services").$type<DesiredServices>(),
    status: text("status").$type<DeploymentPhase>().notNull().default("queued"),
    error: text("error"),
    /** What the current phase is waiting on, for humans: `waiting for image`. */
    statusDetail: text("status_detail"),
    requestedBy: text("requested_by"),
    queuedAt: at("queued_at").notNull().defaultNow(),
    stagingAt: at("staging_at"),
    startingAt: at("starting_at"),
    routingAt: at("routing_at"),
    readyAt: at("ready_at"),
    failedAt: at("failed_at"),
    supersededAt: at("superseded_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("deployments_environment").on(t.environmentId, t.generation),
    // the few deployments in progress, looked up by the janitor before it tears anything down
    index("deployments_underway").on(t.status).where(sql`${t.status} in ('staging', 'starting', 'routing')`),
  ],
);
export type DeploymentRow = typeof deployments.$inferSelect;

export const deploymentEvents = pgTable(
  "deployment_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deploymentId: text("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    phase: text("phase").$type<DeploymentPhase>().notNull(),
    message: text("message"),
    at: at("at").notNull().defaultNow(),
  },
  (t) => [index("deployment_events_deployment").on(t.deploymentId, t.id)],
);
export type DeploymentEventRow = typeof deploymentEvents.$inferSelect;
