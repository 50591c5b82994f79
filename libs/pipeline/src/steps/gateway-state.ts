import { asc, certificates, type Db, isNotNull, projects } from "@edgeplane/db";
import type { EnvironmentKind } from "@edgeplane/domain";
import {
  certificateFileName,
  type GatewayExtras,
  type GatewayTarget,
  type KeyMaterial,
  type Route,
  type Site,
} from "@edgeplane/gateway";
import { readTlsSettings } from "@edgeplane/tls";
import type { ChallengeStore } from "../tls/challenges.ts";
import { coveringName } from "../tls/wanted.ts";

/** What a render needs of every project: its domain, TLS and protection. */
export type GatewayProject = Awaited<ReturnType<typeof gatewayProjects>>[number];

/** Every project as the gateway renders it, by name (the first by name serves a shared domain). */
export function gatewayProjects(db: Db) {
  return db
    .select({ id: projects.id, domain: projects.domain, tls: projects.tls, protection: projects.protection })
    .from(projects)
    .orderBy(asc(projects.name));
}

/** Whether a project's protection covers environments of this kind. */
export function protects(project: Pick<GatewayProject, "protection">, kind: EnvironmentKind): boolean {
  const p = project.protection as { mode?: string; scope?: string };
  return p.mode === "basic" && (p.scope === "all" || kind === "preview");
}

/**
 * Adds what the request path needs to the routes: each project's domain as a site (status pages for
 * hosts without a ready environment), the certificate covering each route and site (from Postgres,
 * handed to the gateway with the apply: nothing written to files, nothing read back), and the HTTP-01
 * answers being presented. The same state gives the same config.
 */
export async function withTls(
  deps: { db: Db; gateway: GatewayTarget; challenges?: ChallengeStore },
  routes: Route[],
  projectRows: GatewayProject[],
): Promise<{ routes: Route[]; extras: GatewayExtras }> {
  const presents = deps.gateway.presentsCertificates === true;
  const tlsProjects = new Set(
    projectRows.filter((p) => readTlsSettings(p.tls).mode !== "off").map((p) => p.id),
  );
  const rows = presents
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
    // a protected project's status pages are protected too (the control plane decides per host)
    const protect = protects(project, "preview"); // every protected project's previews are
    sites.push({
      domain: project.domain,
      ...(certificate ? { certificate } : {}),
      ...(protect ? { protect: true } : {}),
    });
  }
  const withCertificates = routes.map((route) => {
    const certificate = use(coveringName(route.hostname, names));
    return certificate ? { ...route, certificate } : route;
  });

  const material = new Map<string, KeyMaterial>();
  for (const name of used) {
    const row = byName.get(name);
    if (row?.certPem && row.keyPem) {
      material.set(certificateFileName(name), {
        certPem: row.certPem,
        keyPem: row.keyPem,
        chainPem: row.chainPem ?? "",
      });
    }
  }
  return {
    routes: withCertificates,
    extras: { sites, challenges: deps.challenges?.list() ?? [], certificates: material },
  };
}
