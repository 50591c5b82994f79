import type { DeploymentRow, EnvironmentRow, ProjectRow } from "@edgeplane/db";
import { environmentUrl } from "@edgeplane/domain";
import { hasTls, readTlsSettings, tlsSettingsView } from "@edgeplane/tls";
import type { ServiceContext } from "./context.ts";

type Urls = ServiceContext["urls"];
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The URL of an environment: HTTPS on the gateway's HTTPS port once its project has TLS. */
export function urlOf(hostname: string, project: ProjectRow, urls: Urls): string {
  return environmentUrl(hostname, hasTls(project.tls), urls);
}

export function projectView(p: ProjectRow) {
  return {
    id: p.id,
    name: p.name,
    domain: p.domain,
    port: p.port,
    healthcheckPath: p.healthcheckPath,
    env: Object.keys(p.env), // values may be secrets: names only
    repository: p.repository,
    webhookSecretSet: p.webhookSecret !== null, // write-only
    previewImage: p.previewImage,
    previewTtlHours: p.previewTtlHours,
    deployDrafts: p.deployDrafts,
    requiredLabel: p.requiredLabel,
    allowForks: p.allowForks,
    allowedImages: p.allowedImages,
    memoryMb: p.memoryMb,
    cpuMillis: p.cpuMillis,
    tls: tlsSettingsView(readTlsSettings(p.tls)), // secrets: whether set, never their values
    createdAt: iso(p.createdAt),
  };
}

export function environmentView(e: EnvironmentRow, project: ProjectRow, urls: Urls) {
  return {
    id: e.id,
    project: project.name,
    name: e.name,
    kind: e.kind,
    status: e.status,
    hostname: e.hostname,
    url: urlOf(e.hostname, project, urls),
    image: e.desiredImage,
    digest: e.desiredDigest,
    generation: e.generation,
    deploymentId: e.currentDeploymentId,
    pullRequest:
      e.pullRequest === null ? null : { number: e.pullRequest, headSha: e.headSha, state: e.prState },
    readyAt: iso(e.readyAt),
    destroyedAt: iso(e.destroyedAt),
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

export function deploymentView(d: DeploymentRow, e: EnvironmentRow, project: ProjectRow, urls: Urls) {
  return {
    id: d.id,
    project: project.name,
    environment: e.name,
    url: urlOf(e.hostname, project, urls),
    image: d.image,
    digest: d.digest,
    generation: d.generation,
    status: d.status,
    /** What the current phase waits on, e.g. `waiting for image`; null when nothing. */
    statusDetail: d.statusDetail,
    error: d.error,
    phases: {
      queued: iso(d.queuedAt),
      staging: iso(d.stagingAt),
      starting: iso(d.startingAt),
      routing: iso(d.routingAt),
      ready: iso(d.readyAt),
      failed: iso(d.failedAt),
      superseded: iso(d.supersededAt),
    },
    createdAt: iso(d.createdAt),
  };
}
