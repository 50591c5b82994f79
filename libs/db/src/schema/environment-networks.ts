import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";
import { environments } from "./environments.ts";

/**
 * The private network each environment's containers join: one subnet of edgeplane's pool per
 * environment (`subnetIndex` counts subnets from the pool's start), held from the environment's
 * first container until its teardown removed the network.
 */
export const environmentNetworks = pgTable("environment_networks", {
  subnetIndex: integer("subnet_index").primaryKey(),
  environmentId: text("environment_id")
    .notNull()
    .unique()
    .references(() => environments.id, { onDelete: "cascade" }),
  createdAt: createdAt(),
});
export type EnvironmentNetworkRow = typeof environmentNetworks.$inferSelect;
