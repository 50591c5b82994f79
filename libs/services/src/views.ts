import type { DeploymentRow, EnvironmentRow, ProjectRow } from "@edgeplane/db";
import {
  DEPLOYMENT_PHASES,
  ENVIRONMENT_KINDS,
  ENVIRONMENT_STATUSES,
  environmentUrl,
} from "@edgeplane/domain";
import { hasTls, readTlsSettings, tlsSettingsView } from "@edgeplane/tls";
import { z } from "zod";
import type { ServiceContext } from "./context.ts";

type Urls = ServiceContext["urls"];
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const timestamp = z.string().nullable();

/** The URL of an environment: HTTPS on the gateway's HTTPS port once its project has TLS. */
export function urlOf(hostname: string, project: ProjectRow, urls: Urls): string {
  return environmentUrl(hostname, hasTls(project.tls), urls);
}

export const projectViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  domain: z.string(),
  port: z.number().int(),
  healthcheckPath: z.string(),
  /** Variable names only: values may be secrets. */
  env: z.array(z.string()),
  repository: z.string().nullable(),
  webhookSecretSet: z.boolean(),
  previewImage: z.string().nullable(),
  previewTtlHours: z.number().int(),
  deployDrafts: z.boolean(),
  requiredLabel: z.string().nullable(),
  allowForks: z.boolean(),
  allowedImages: z.array(z.string()),
  memoryMb: z.number().int(),
  cpuMillis: z.number().int(),
  maxEnvironments: z.number().int(),
  /** Registries the project has credentials for; the credentials themselves are write-only. */
  registryCredentials: z.array(z.string()),
  /** The TLS settings with secrets replaced by whether they are set. */
  tls: z.record(z.string(), z.unknown()),
  createdAt: timestamp,
});
export type ProjectView = z.infer<typeof projectViewSchema>;

export function projectView(p: ProjectRow): ProjectView {
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
    maxEnvironments: p.maxEnvironments,
    registryCredentials: p.registryCredentialHosts,
    tls: tlsSettingsView(readTlsSettings(p.tls)), // secrets: whether set, never their values
    createdAt: iso(p.createdAt),
  };
}

export const environmentViewSchema = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string(),
  kind: z.enum(ENVIRONMENT_KINDS),
  status: z.enum(ENVIRONMENT_STATUSES),
  hostname: z.string(),
  url: z.string(),
  image: z.string().nullable(),
  digest: z.string().nullable(),
  generation: z.number().int(),
  deploymentId: z.string().nullable(),
  pullRequest: z
    .object({
      number: z.number().int(),
      headSha: z.string().nullable(),
      state: z.enum(["open", "closed"]).nullable(),
    })
    .nullable(),
  readyAt: timestamp,
  destroyedAt: timestamp,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type EnvironmentView = z.infer<typeof environmentViewSchema>;

export function environmentView(e: EnvironmentRow, project: ProjectRow, urls: Urls): EnvironmentView {
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

export const deploymentViewSchema = z.object({
  id: z.string(),
  project: z.string(),
  environment: z.string(),
  url: z.string(),
  image: z.string(),
  digest: z.string().nullable(),
  generation: z.number().int(),
  status: z.enum(DEPLOYMENT_PHASES),
  /** What the current phase waits on, e.g. `waiting for image`; null when nothing. */
  statusDetail: z.string().nullable(),
  error: z.string().nullable(),
  /** When the deployment entered each phase; null for phases it has not reached. */
  phases: z.object({
    queued: timestamp,
    staging: timestamp,
    starting: timestamp,
    routing: timestamp,
    ready: timestamp,
    failed: timestamp,
    superseded: timestamp,
  }),
  createdAt: timestamp,
});
export type DeploymentView = z.infer<typeof deploymentViewSchema>;

export function deploymentView(
  d: DeploymentRow,
  e: EnvironmentRow,
  project: ProjectRow,
  urls: Urls,
): DeploymentView {
  return {
    id: d.id,
    project: project.name,
    environment: e.name,
    url: urlOf(e.hostname, project, urls),
    image: d.image,
    digest: d.digest,
    generation: d.generation,
    status: d.status,
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

/** A deployment with its history: every phase it entered, in order. */
export const deploymentDetailSchema = deploymentViewSchema.extend({
  events: z.array(
    z.object({ phase: z.enum(DEPLOYMENT_PHASES), message: z.string().nullable(), at: z.string() }),
  ),
});
export type DeploymentDetail = z.infer<typeof deploymentDetailSchema>;
