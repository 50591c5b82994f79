import type { TokenScope } from "@edgeplane/domain";
import { pgTable, text } from "drizzle-orm/pg-core";
import { at, createdAt } from "./columns.ts";

export const apiTokens = pgTable("api_tokens", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  /** sha256 of the token; the token itself is shown once and never stored. */
  hash: text("hash").notNull().unique(),
  scopes: text("scopes").array().$type<TokenScope[]>().notNull(),
  /** Project ids this token may act on. */
  projectIds: text("project_ids").array().notNull().default([]),
  lastUsedAt: at("last_used_at"),
  revokedAt: at("revoked_at"),
  createdAt: createdAt(),
});
export type ApiTokenRow = typeof apiTokens.$inferSelect;
