import { pgTable, text } from "drizzle-orm/pg-core";
import { at, createdAt } from "./columns.ts";

/** Images edgeplane pulled onto the runtime host; only these may ever be removed by the janitor. */
export const runtimeImages = pgTable("runtime_images", {
  /** The pinned reference pulled: `edge-registry/repo@sha256:…`. */
  ref: text("ref").primaryKey(),
  digest: text("digest").notNull(),
  pulledAt: createdAt(),
  lastUsedAt: at("last_used_at").notNull().defaultNow(),
});
export type RuntimeImageRow = typeof runtimeImages.$inferSelect;
