import { readTlsSettings, type TlsSettings, wildcardName } from "@edgeplane/tls";

export interface WantedCertificate {
  projectId: string;
  /** `*.preview.test` or a hostname: the certificate's identity within its project. */
  name: string;
  hostnames: string[];
  issuer: "acme" | "local";
  settings: Exclude<TlsSettings, { mode: "off" }>;
  domain: string;
}

export interface ProjectTls {
  id: string;
  domain: string;
  tls: unknown;
}

/**
 * The certificates state asks for: a wildcard `*.{domain}` for `local` and ACME DNS-01 projects, one per
 * routed hostname for ACME HTTP-01 projects. Nothing for projects with TLS off.
 */
export function wantedCertificates(
  projects: ProjectTls[],
  routed: Array<{ projectId: string; hostname: string }>,
): WantedCertificate[] {
  const wanted: WantedCertificate[] = [];
  for (const project of projects) {
    const settings = readTlsSettings(project.tls);
    if (settings.mode === "off") continue;
    const issuer = settings.mode === "local" ? "local" : "acme";
    if (settings.mode === "acme" && settings.challenge === "http-01") {
      const hosts = [
        ...new Set(routed.filter((r) => r.projectId === project.id).map((r) => r.hostname)),
      ].sort();
      for (const hostname of hosts) {
        wanted.push({
          projectId: project.id,
          name: hostname,
          hostnames: [hostname],
          issuer,
          settings,
          domain: project.domain,
        });
      }
    } else {
      const name = wildcardName(project.domain);
      wanted.push({
        projectId: project.id,
        name,
        hostnames: [name],
        issuer,
        settings,
        domain: project.domain,
      });
    }
  }
  return wanted;
}

/** The certificate name that covers `hostname` among `names`: the hostname itself, else its wildcard. */
export function coveringName(hostname: string, names: ReadonlySet<string>): string | undefined {
  if (names.has(hostname)) return hostname;
  const dot = hostname.indexOf(".");
  const wildcard = dot > 0 ? `*.${hostname.slice(dot + 1)}` : undefined;
  return wildcard && names.has(wildcard) ? wildcard : undefined;
}
