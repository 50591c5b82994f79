import type { DeploymentRow, EnvironmentRow, ProjectRow } from "@edgeplane/db";
import { environmentUrl } from "@edgeplane/domain";
import type { ServiceContext } from "./context.ts";

type Urls = ServiceContext["urls"];
const iso = (d: Date | null) => (d ? d.toISOString() : null);

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
    url: environmentUrl(e.hostname, urls.scheme, urls.port),
    image: e.desiredImage,
    digest: e.desiredDigest,
    generation: e.generation,
    deploymentId: e.currentDeploymentId,
    pullRequest: e.pullRequest === null ? null : { number: e.pullRequest, headSha: e.headSha, state: e.prState },
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
    url: environmentUrl(e.hostname, urls.scheme, urls.port),
    image: d.image,
    digest: d.digest,
    generation: d.generation,
    status: d.status,
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
