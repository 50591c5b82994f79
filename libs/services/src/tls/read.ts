import { X509Certificate } from "node:crypto";
import { asc, type CertificateRow, certificates, eq } from "@edgeplane/db";
import { z } from "zod";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectByName } from "../projects/find.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A certificate as the API shows it: names, validity, serial and the last failure; never key material. */
export const certificateViewSchema = z.object({
  name: z.string(),
  hostnames: z.array(z.string()),
  issuer: z.enum(["acme", "local"]),
  status: z.enum(["pending", "failed", "valid", "expired"]),
  serialNumber: z.string().nullable(),
  notBefore: z.string().nullable(),
  notAfter: z.string().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type CertificateView = z.infer<typeof certificateViewSchema>;

export function certificateView(row: CertificateRow, now = new Date()): CertificateView {
  let serialNumber: string | null = null;
  if (row.certPem) {
    try {
      serialNumber = new X509Certificate(row.certPem).serialNumber;
    } catch {
      serialNumber = null;
    }
  }
  const status = !row.certPem
    ? row.lastError
      ? "failed"
      : "pending"
    : row.notAfter && row.notAfter <= now
      ? "expired"
      : "valid";
  return {
    name: row.name,
    hostnames: row.hostnames,
    issuer: row.issuer,
    status,
    serialNumber,
    notBefore: iso(row.notBefore),
    notAfter: iso(row.notAfter),
    lastError: row.lastError,
    lastAttemptAt: iso(row.lastAttemptAt),
    updatedAt: iso(row.updatedAt),
  };
}

export async function listCertificates({
  ctx,
  principal,
  input: { project: projectName },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { project: string };
}): Promise<CertificateView[]> {
  const project = await findProjectByName(ctx.db, projectName);
  authorize(principal, "read", project.id);
  const rows = await ctx.db
    .select()
    .from(certificates)
    .where(eq(certificates.projectId, project.id))
    .orderBy(asc(certificates.name));
  return rows.map((row) => certificateView(row));
}
