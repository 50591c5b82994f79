import { integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, updatedAt } from "./columns.ts";

export const projects = pgTable("projects", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  domain: text("domain").notNull(),
  port: integer("port").notNull(),
  healthcheckPath: text("healthcheck_path").notNull().default("/"),
  env: jsonb("env").$type<Record<string, string>>().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});
export type ProjectRow = typeof projects.$inferSelect;
