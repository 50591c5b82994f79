import { pgTable, text, unique } from "drizzle-orm/pg-core";
import { at, createdAt, updatedAt } from "./columns.ts";
import { projects } from "./projects.ts";

/**
 * Certificates the gateway serves: one per hostname or wildcard. Key material lives here and in
 * owner-only files under the gateway dir; never in logs or API answers.
 */
export const certificates = pgTable(
  "certificates",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** `pr-1.preview.test`, or `*.preview.test` for a wildcard. */
    name: text("name").notNull(),
    hostnames: text("hostnames").array().notNull(),
    issuer: text("issuer").$type<"acme" | "local">().notNull(),
    certPem: text("cert_pem"),
    keyPem: text("key_pem"),
    chainPem: text("chain_pem"),
    notBefore: at("not_before"),
    notAfter: at("not_after"),
    /** Last failed issue/renewal, for the API and metrics; the previous certificate keeps serving. */
    lastError: text("last_error"),
    lastAttemptAt: at("last_attempt_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique("certificates_project_name").on(t.projectId, t.name)],
);
export type CertificateRow = typeof certificates.$inferSelect;

/** edgeplane's own certificate authority for local use (one row, id `local`). */
export const certificateAuthorities = pgTable("certificate_authorities", {
  id: text("id").primaryKey(),
  certPem: text("cert_pem").notNull(),
  keyPem: text("key_pem").notNull(),
  createdAt: createdAt(),
});
