import { pgTable, text } from "drizzle-orm/pg-core";
import { at } from "./columns.ts";

/** Every `X-GitHub-Delivery` id seen: a redelivery is acknowledged and does nothing twice. */
export const webhookDeliveries = pgTable("webhook_deliveries", {
  id: text("id").primaryKey(),
  event: text("event").notNull(),
  repository: text("repository"),
  outcome: text("outcome").notNull(),
  receivedAt: at("received_at").notNull().defaultNow(),
});
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
