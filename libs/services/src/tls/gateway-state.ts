import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { asc, certificates, type Db, isNotNull, projects } from "@edgeplane/db";
import type { GatewayExtras, Route, Site } from "@edgeplane/gateway";
import { certificateFileName, readTlsSettings, writeKeyMaterial } from "@edgeplane/tls";
import type { ChallengeStore } from "./challenges.ts";
import { coveringName } from "./wanted.ts";

/** What the ingress worker drives: the nginx gateway, or anything that renders the same input. */
export interface GatewayTarget {
  apply(routes: Route[], extras?: GatewayExtras): Promise<{ drained: Promise<void> }>;
  /** Where certificate files go; without it the gateway serves HTTP only. */
  certificateDir?: string;
}

/**
 * Adds what the request path needs to the routes: each project's domain as a site (status pages for
 * hosts without a ready environment), the certificate covering each route and site (its files written
 * from Postgres, keys 0600), and the HTTP-01 answers being presented. The same state gives the same files.
 */
export async function withTls(
  deps: { db: Db; gateway: GatewayTarget; challenges?: ChallengeStore },
  routes: Route[],
): Promise<{ routes: Route[]; extras: GatewayExtras }> {
  const projectRows = await deps.db
    .select({ id: projects.id, domain: projects.domain, tls: projects.tls })
    .from(projects)
    .orderBy(asc(projects.name));
  const dir = deps.gateway.certificateDir;
  const tlsProjects = new Set(
    projectRows.filter((p) => readTlsSettings(p.tls).mode !== "off").map((p) => p.id),
  );
  const rows = dir
    ? (await deps.db.select().from(certificates).where(isNotNull(certificates.certPem))).filter((r) =>
        tlsProjects.has(r.projectId),
      )
    : [];
  const byName = new Map(rows.map((r) => [r.name, r]));
  const names = new Set(byName.keys());
  const used = new Set<string>();
  const use = (name: string | undefined) => {
    if (name === undefined) return undefined;
    used.add(name);
    return certificateFileName(name);
  };

  const sites: Site[] = [];
  const domains = new Set<string>();
  for (const project of projectRows) {
    if (domains.has(project.domain)) continue; // two projects on one domain: the first by name serves it
    domains.add(project.domain);
    const wildcard = `*.${project.domain}`;
    const certificate = names.has(wildcard) ? use(wildcard) : undefined;
    sites.push(certificate ? { domain: project.domain, certificate } : { domain: project.domain });
  }
  const withCertificates = routes.map((route) => {
    const certificate = use(coveringName(route.hostname, names));
    return certificate ? { ...route, certificate } : route;
  });

  if (dir) {
    for (const name of used) {
      const row = byName.get(name);
      if (row?.certPem && row.keyPem) await writeIfChanged(dir, certificateFileName(name), row);
    }
  }
  return { routes: withCertificates, extras: { sites, challenges: deps.challenges?.list() ?? [] } };
}

async function writeIfChanged(
  dir: string,
  file: string,
  row: { certPem: string | null; keyPem: string | null; chainPem: string | null },
): Promise<void> {
  const material = { certPem: row.certPem ?? "", keyPem: row.keyPem ?? "", chainPem: row.chainPem ?? "" };
  const [cert, key] = await Promise.all(
    [".crt", ".key"].map((ext) => readFile(join(dir, `${file}${ext}`), "utf8").catch(() => "")),
  );
  const trimmed = (pem: string) => (pem.trim() === "" ? "" : `${pem.trim()}\n`);
  if (cert === trimmed(material.certPem) + trimmed(material.chainPem) && key === trimmed(material.keyPem))
    return;
  await writeKeyMaterial(dir, file, material);
}
