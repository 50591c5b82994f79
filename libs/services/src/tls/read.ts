import { X509Certificate } from "node:crypto";
import { asc, type CertificateRow, certificates, eq } from "@edgeplane/db";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectByName } from "../projects/find.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A certificate as the API shows it: names, validity, serial and the last failure; never key material. */
export function certificateView(row: CertificateRow, now = new Date()) {
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
  project: projectName,
}: {
  ctx: ServiceContext;
  principal: Principal;
  project: string;
}) {
  const project = await findProjectByName(ctx.db, projectName);
  authorize(principal, "read", project.id);
  const rows = await ctx.db
    .select()
    .from(certificates)
    .where(eq(certificates.projectId, project.id))
    .orderBy(asc(certificates.name));
  return rows.map((row) => certificateView(row));
}
