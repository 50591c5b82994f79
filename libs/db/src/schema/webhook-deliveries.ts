import { pgTable, text } from "drizzle-orm/pg-core";
import { at } from "./columns.ts";

/** Every delivery seen, by `X-GitHub-Delivery` id and by body: a redelivery or replay does nothing twice. */
export const webhookDeliveries = pgTable("webhook_deliveries", {
  id: text("id").primaryKey(),
  event: text("event").notNull(),
  repository: text("repository"),
  outcome: text("outcome").notNull(),
  /** sha256 of the signed body: the same event replayed under a new delivery id is a duplicate too. */
  bodySha256: text("body_sha256").unique(),
  receivedAt: at("received_at").notNull().defaultNow(),
});
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
