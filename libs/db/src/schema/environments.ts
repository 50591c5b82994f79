import type {
  DesiredServices,
  EnvironmentKind,
  EnvironmentStatus,
  ObservedServices,
} from "@edgeplane/domain";
import { integer, jsonb, pgTable, text, unique } from "drizzle-orm/pg-core";
import { at, createdAt, updatedAt } from "./columns.ts";
import { projects } from "./projects.ts";

export const environments = pgTable(
  "environments",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    kind: text("kind").$type<EnvironmentKind>().notNull(),
    hostname: text("hostname").notNull().unique(),
    status: text("status").$type<EnvironmentStatus>().notNull().default("pending"),
    /** Bumped by every change of intent; jobs of an older generation are superseded. */
    generation: integer("generation").notNull().default(0),
    desiredImage: text("desired_image"),
    desiredDigest: text("desired_digest"),
    currentDeploymentId: text("current_deployment_id"),
    /** The newest healthy container for the current generation (set by worker-reconcile). */
    observedContainerId: text("observed_container_id"),
    /**
     * Where the gateway reaches it: its address on the environment's own network (fixed for as long
     * as the container lives), or on a Swarm the address of the node its task runs on.
     */
    observedAddress: text("observed_address"),
    /** The port it serves on at that address (the project's port; on a Swarm, the port published for it). */
    observedPort: integer("observed_host_port"),
    /** The Swarm node its task runs on; null on a single Docker host. */
    observedNode: text("observed_node"),
    /** The container the gateway routes to (set by worker-ingress after a reload), at that address. */
    routedContainerId: text("routed_container_id"),
    routedAddress: text("routed_address"),
    routedPort: integer("routed_host_port"),
    /**
     * A compose project's environment: each service's image, staged digest and deploy-time values
     * (null for a single-service project). `desiredImage`/`desiredDigest` then name the primary
     * service's, and the observed/routed columns above its container.
     */
    desiredServices: jsonb("desired_services").$type<DesiredServices>(),
    /** Every service's healthy (or completed) container of the current intent, set by reconcile. */
    observedServices: jsonb("observed_services").$type<ObservedServices>(),
    /** The services' containers the gateway routes to, set by ingress with the switch. */
    routedServices: jsonb("routed_services").$type<ObservedServices>(),
    /** The last request the gateway served for one of its hosts (health checks do not pass it). */
    lastRequestAt: at("last_request_at"),
    /** When it was put to sleep (containers stopped); null while awake. */
    sleepingSince: at("sleeping_since"),
    pullRequest: integer("pull_request"),
    /** The pull request as last applied: decides ordering of late webhook deliveries. */
    headSha: text("head_sha"),
    prState: text("pr_state").$type<"open" | "closed">(),
    prUpdatedAt: at("pr_updated_at"),
    /** Last deploy or pull-request activity; a preview idle past the project's TTL is destroyed. */
    lastActivityAt: at("last_activity_at").notNull().defaultNow(),
    /** GitHub Deployment id reported for this environment's current deployment. */
    githubDeploymentId: text("github_deployment_id"),
    readyAt: at("ready_at"),
    destroyedAt: at("destroyed_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique("environments_project_name").on(t.projectId, t.name)],
);
export type EnvironmentRow = typeof environments.$inferSelect;
