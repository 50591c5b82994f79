import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CertificateRow, certificates, type Db, eq, projects, type Sql } from "@edgeplane/db";
import { newId } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import {
  type AcmeTlsSettings,
  createAcmeAccountKey,
  type DnsProvider,
  httpreqProvider,
  issueAcmeCertificate,
  issueCertificate,
  readCertificateInfo,
  renewalDue,
  rfc2136Provider,
} from "@edgeplane/tls";
import { withAdvisoryLock } from "../lock.ts";
import { routableEnvironments } from "../state.ts";
import type { ChallengeStore } from "./challenges.ts";
import { localCaForIssuing } from "./local-ca.ts";
import { type WantedCertificate, wantedCertificates } from "./wanted.ts";

export interface CertificateDeps {
  db: Db;
  sql: Sql;
  log: Logger;
  /** HTTP-01 answers the gateway serves while an order is validated. */
  challenges: ChallengeStore;
  /** Re-renders and reloads the gateway from state (certificates, routes, challenges). */
  syncGateway: () => Promise<unknown>;
  /** Owner-only dir for ACME account keys. */
  accountDir: string;
  renewBeforeDays: number;
  retryAfterMs: number;
  localValidDays: number;
  /** Opens the local CA's sealed key (EDGEPLANE_CA_KEY, 32 bytes); without it the local CA cannot issue. */
  caKey?: Buffer;
  /** Per request to an ACME server (default 30 s). */
  acmeTimeoutMs?: number;
  /** Per DNS update or httpreq call (default 10 s). */
  dnsTimeoutMs?: number;
}

export interface CertificateReport {
  issued: string[];
  failed: string[];
  removed: number;
}

const MAX_ERROR_LENGTH = 2000;

/**
 * Level-triggered certificate upkeep: every certificate state asks for is issued if missing, replaced
 * if due for renewal (or its issuer or names changed), and certificates nothing asks for any more are
 * removed. A failed attempt keeps the previous certificate serving and records `lastError` and
 * `lastAttemptAt`; that certificate is tried again after `retryAfterMs`. The gateway is re-rendered
 * once anything changed. Key material never reaches a log line or an error message.
 */
export async function maintainCertificates(
  deps: CertificateDeps,
  now = new Date(),
): Promise<CertificateReport> {
  return withAdvisoryLock(deps.sql, "tls-maintain", async () => {
    const report: CertificateReport = { issued: [], failed: [], removed: 0 };
    const projectRows = await deps.db
      .select({ id: projects.id, domain: projects.domain, tls: projects.tls })
      .from(projects);
    const routed = await routableEnvironments(deps.db);
    const wanted = wantedCertificates(projectRows, routed);
    const rows = await deps.db.select().from(certificates);
    const key = (projectId: string, name: string) => `${projectId}/${name}`;
    const existing = new Map(rows.map((r) => [key(r.projectId, r.name), r]));
    // the local CA's name constraints permit exactly the domains of projects with local TLS
    const localDomains = [...new Set(wanted.filter((w) => w.issuer === "local").map((w) => w.domain))];

    for (const want of wanted) {
      const row = existing.get(key(want.projectId, want.name));
      if (!isDue(row, want, now, deps.renewBeforeDays)) continue;
      if (
        row?.lastError &&
        row.lastAttemptAt &&
        now.getTime() - row.lastAttemptAt.getTime() < deps.retryAfterMs
      )
        continue;
      const log = deps.log.child({ certificate: want.name, projectId: want.projectId, issuer: want.issuer });
      const renewing = Boolean(row?.certPem);
      try {
        const issued = await issue(deps, want, log, localDomains);
        await upsert(deps.db, want, row, {
          certPem: issued.certPem,
          keyPem: issued.keyPem,
          chainPem: issued.chainPem,
          notBefore: issued.notBefore,
          notAfter: issued.notAfter,
          lastError: null,
          lastAttemptAt: new Date(),
        });
        report.issued.push(want.name);
        log.info(
          { notAfter: issued.notAfter.toISOString(), renewed: renewing },
          renewing ? "certificate renewed" : "certificate issued",
        );
      } catch (error) {
        const message = describe(error);
        await upsert(deps.db, want, row, { lastError: message, lastAttemptAt: new Date() });
        report.failed.push(want.name);
        log.warn(
          { err: message, keepsServing: renewing, notAfter: row?.notAfter?.toISOString() ?? null },
          renewing
            ? "certificate renewal failed; the current certificate keeps serving"
            : "certificate issue failed",
        );
      }
    }

    const keep = new Set(wanted.map((w) => key(w.projectId, w.name)));
    const stale = rows.filter((r) => !keep.has(key(r.projectId, r.name)));
    for (const row of stale) await deps.db.delete(certificates).where(eq(certificates.id, row.id));
    report.removed = stale.length;

    if (report.issued.length > 0 || stale.some((r) => r.certPem !== null)) await deps.syncGateway();
    return report;
  });
}

function isDue(
  row: CertificateRow | undefined,
  want: WantedCertificate,
  now: Date,
  renewBeforeDays: number,
): boolean {
  if (!row?.certPem || !row.notBefore || !row.notAfter) return true;
  if (row.issuer !== want.issuer) return true;
  if ([...row.hostnames].sort().join(",") !== [...want.hostnames].sort().join(",")) return true;
  return renewalDue(row.notBefore, row.notAfter, now, renewBeforeDays);
}

async function upsert(
  db: Db,
  want: WantedCertificate,
  row: CertificateRow | undefined,
  values: Partial<typeof certificates.$inferInsert>,
): Promise<void> {
  const identity = { hostnames: want.hostnames, issuer: want.issuer };
  // a failed first attempt leaves a row without a certificate; a failed renewal keeps the old one
  const set = values.certPem === undefined && row?.certPem ? values : { ...identity, ...values };
  await db
    .insert(certificates)
    .values({
      id: row?.id ?? newId("certificate"),
      projectId: want.projectId,
      name: want.name,
      ...identity,
      ...values,
    })
    .onConflictDoUpdate({ target: [certificates.projectId, certificates.name], set });
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // never let anything that looks like key material into a stored or logged message
  const cleaned = message.replace(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g, "[pem]");
  return cleaned.slice(0, MAX_ERROR_LENGTH) || "unknown error";
}

interface Issued {
  certPem: string;
  keyPem: string;
  chainPem: string;
  notBefore: Date;
  notAfter: Date;
}

async function issue(
  deps: CertificateDeps,
  want: WantedCertificate,
  log: Logger,
  localDomains: string[],
): Promise<Issued> {
  if (want.settings.mode === "local") {
    if (!deps.caKey)
      throw new Error("EDGEPLANE_CA_KEY is not set: the local CA cannot issue (edgeplane up generates one)");
    const ca = await localCaForIssuing(deps.db, { secret: deps.caKey, domains: localDomains });
    const cert = await issueCertificate(ca, { hostnames: want.hostnames, validDays: deps.localValidDays });
    return { ...cert, notBefore: readCertificateInfo(cert.certPem).notBefore };
  }
  const settings = want.settings;
  const challenges = deps.challenges;
  return issueAcmeCertificate({
    directoryUrl: settings.directoryUrl,
    ...(settings.email ? { email: settings.email } : {}),
    ...(settings.caBundle ? { caBundle: settings.caBundle } : {}),
    accountKeyPem: await accountKey(deps.accountDir, settings),
    hostnames: want.hostnames,
    challenge: settings.challenge,
    ...(deps.acmeTimeoutMs ? { timeoutMs: deps.acmeTimeoutMs } : {}),
    ...(settings.dns ? { dns: dnsProvider(settings, want.domain, deps.dnsTimeoutMs) } : {}),
    http: {
      present: async (token, keyAuthorization) => {
        challenges.set(token, keyAuthorization);
        await deps.syncGateway();
      },
      cleanup: async (token) => {
        challenges.delete(token);
        await deps.syncGateway();
      },
    },
    log: (message, fields) => log.info(fields ?? {}, message),
  });
}

function dnsProvider(settings: AcmeTlsSettings, domain: string, timeoutMs: number | undefined): DnsProvider {
  const dns = settings.dns;
  if (!dns) throw new Error("dns-01 needs a dns provider");
  const deadline = timeoutMs ? { timeoutMs } : {};
  if (dns.provider === "httpreq") {
    return httpreqProvider({
      ...deadline,
      endpoint: dns.endpoint,
      ...(dns.username ? { username: dns.username } : {}),
      ...(dns.password ? { password: dns.password } : {}),
    });
  }
  return rfc2136Provider({
    ...deadline,
    server: dns.server,
    port: dns.port,
    zone: dns.zone ?? domain,
    ...(dns.tsigKeyName && dns.tsigSecret
      ? {
          tsig: {
            name: dns.tsigKeyName,
            algorithm: dns.tsigAlgorithm,
            secret: Buffer.from(dns.tsigSecret, "base64"),
          },
        }
      : {}),
  });
}

/**
 * The ACME account key for a directory and contact, kept owner-only in `dir` and created on first use:
 * the same key finds the same account again, which keeps within a CA's limits on new accounts.
 */
async function accountKey(dir: string, settings: AcmeTlsSettings): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const id = createHash("sha256")
    .update(`${settings.directoryUrl}\n${settings.email ?? ""}`)
    .digest("hex")
    .slice(0, 24);
  const path = join(dir, `account-${id}.key`);
  const existing = await readFile(path, "utf8").catch(() => undefined);
  if (existing) return existing;
  await writeFile(path, await createAcmeAccountKey(), { mode: 0o600, flag: "wx" }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    },
  );
  return readFile(path, "utf8");
}
