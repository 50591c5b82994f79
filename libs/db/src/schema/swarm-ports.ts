import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";

/**
 * Host ports a Swarm runtime publishes tasks on (`mode: host`), one per service, from
 * `EDGEPLANE_SWARM_PORT_RANGE`: a port is never handed out twice while a row holds it, so a new
 * task never lands on a port another service still binds. `owner` is the Swarm service's name.
 */
export const swarmPorts = pgTable("swarm_ports", {
  port: integer("port").primaryKey(),
  owner: text("owner").notNull().unique(),
  createdAt: createdAt(),
});
export type SwarmPortRow = typeof swarmPorts.$inferSelect;
