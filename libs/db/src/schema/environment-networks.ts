import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";

/**
 * The private network each environment's containers join: one subnet of edgeplane's pool per
 * environment (`subnetIndex` counts subnets from the pool's start), held from the environment's
 * first container until its teardown removed the network. A spare network (`networkSpares`) holds
 * one too, under the id the environment that takes it will have: so no foreign key to
 * `environments`; teardown and the orphan sweep give subnets back.
 */
export const environmentNetworks = pgTable("environment_networks", {
  subnetIndex: integer("subnet_index").primaryKey(),
  environmentId: text("environment_id").notNull().unique(),
  createdAt: createdAt(),
});
export type EnvironmentNetworkRow = typeof environmentNetworks.$inferSelect;

/**
 * Environment ids made ahead, each with its network (and, on one Docker host, a network holder on
 * it) ready: a new environment takes the oldest one no environment has yet as its id, so its first
 * container starts at once, without waiting for Docker to set a network up. A row whose id an
 * environment has is spent (the worker that makes spares forgets it).
 */
export const networkSpares = pgTable("network_spares", {
  environmentId: text("environment_id").primaryKey(),
  createdAt: createdAt(),
});
