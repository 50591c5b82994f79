import type { DeploymentRow, EnvironmentRow, ProjectRow } from "@edgeplane/db";
import {
  DEPLOYMENT_PHASES,
  ENVIRONMENT_KINDS,
  ENVIRONMENT_STATUSES,
  environmentUrl,
  serviceHostname,
} from "@edgeplane/domain";
import { composeAppOf, primaryServiceOf } from "@edgeplane/pipeline";
import { hasTls, readTlsSettings, tlsSettingsView } from "@edgeplane/tls";
import { z } from "zod";
import type { ServiceContext } from "./context.ts";
import { protectionView } from "./gateway/protection.ts";

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
  /**
   * The compose file as edgeplane reads it (null: one container per environment): services with
   * their image, port and whether they are routed; environment values are not shown (they may be
   * secrets), their names are.
   */
  compose: z
    .object({
      primaryService: z.string().nullable(),
      services: z.array(
        z.object({
          name: z.string(),
          image: z.string().nullable(),
          port: z.number().int().nullable(),
          env: z.array(z.string()),
          dependsOn: z.array(z.object({ service: z.string(), condition: z.string() })),
          volumes: z.array(z.string()),
          oneShot: z.boolean(),
        }),
      ),
      volumes: z.array(z.object({ name: z.string(), seedFrom: z.string().nullable() })),
    })
    .nullable(),
  previewImages: z.record(z.string(), z.string()).nullable(),
  environmentMemoryMb: z.number().int(),
  environmentCpuMillis: z.number().int(),
  /** Protection of its hosts at the gateway; the password is write-only. */
  protection: z.object({
    mode: z.enum(["off", "basic"]),
    username: z.string().optional(),
    scope: z.string().optional(),
  }),
  bypassTokenSet: z.boolean(),
  sleepAfterSeconds: z.number().int(),
  sleepFixed: z.boolean(),
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
    compose: composeView(p),
    previewImages: p.previewImages,
    environmentMemoryMb: p.environmentMemoryMb,
    environmentCpuMillis: p.environmentCpuMillis,
    protection: protectionView(p.protection),
    bypassTokenSet: p.bypassTokenHash !== null,
    sleepAfterSeconds: p.sleepAfterSeconds,
    sleepFixed: p.sleepFixed,
    registryCredentials: p.registryCredentialHosts,
    tls: tlsSettingsView(readTlsSettings(p.tls)), // secrets: whether set, never their values
    createdAt: iso(p.createdAt),
  };
}

/** A map keyed by service, in the compose file's order (Postgres's jsonb keeps keys its own way). */
function inFileOrder<T>(project: ProjectRow, byService: Record<string, T>): Array<[string, T]> {
  const order = composeAppOf(project)?.services.map((s) => s.name) ?? [];
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  return Object.entries(byService).sort(([a], [b]) => rank(a) - rank(b));
}

/** A compose service's URL in an environment; null for a service without a port. */
function serviceUrl(service: string, environment: string, project: ProjectRow, urls: Urls): string | null {
  const app = composeAppOf(project);
  const spec = app?.services.find((s) => s.name === service);
  if (!app || !spec || spec.port === null) return null;
  return urlOf(
    serviceHostname(service, environment, project.domain, primaryServiceOf(project, app)),
    project,
    urls,
  );
}

function composeView(p: ProjectRow): ProjectView["compose"] {
  const app = composeAppOf(p);
  if (!app) return null;
  return {
    primaryService: p.primaryService ?? app.primaryService,
    services: app.services.map((s) => ({
      name: s.name,
      image: s.image,
      port: s.port,
      env: Object.keys(s.environment),
      dependsOn: s.dependsOn.map((d) => ({ service: d.service, condition: d.condition })),
      volumes: s.volumes.map((v) => v.volume),
      oneShot: s.oneShot,
    })),
    volumes: app.volumes.map((v) => ({ name: v.name, seedFrom: v.seedFrom })),
  };
}

/** One service of a compose environment or deployment: its image, digest once staged, URL (null: private). */
const serviceViewSchema = z.object({
  name: z.string(),
  image: z.string(),
  digest: z.string().nullable(),
  url: z.string().nullable(),
});

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
  /**
   * A compose project's environment: every service with its image, digest, URL (null: private) and
   * status (`pending`: not started for this intent yet; `running`; `completed`: a one-shot that ran;
   * `serving`: running and routed by the gateway). Null for a single-service project.
   */
  services: z
    .array(
      serviceViewSchema.extend({
        status: z.enum(["pending", "running", "completed", "serving"]),
        /** The Swarm node its container runs on; null on a single Docker host. */
        node: z.string().nullable(),
      }),
    )
    .nullable(),
  /** The Swarm node its (primary) container runs on; null on a single Docker host, or with none running. */
  node: z.string().nullable(),
  pullRequest: z
    .object({
      number: z.number().int(),
      headSha: z.string().nullable(),
      state: z.enum(["open", "closed"]).nullable(),
    })
    .nullable(),
  readyAt: timestamp,
  /** When it was put to sleep (containers stopped until the next request); null while awake. */
  sleepingSince: timestamp,
  /** The last request the gateway served for it. */
  lastRequestAt: timestamp,
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
    services: e.desiredServices
      ? inFileOrder(project, e.desiredServices).map(([name, d]) => {
          const observed = e.observedServices?.[name];
          const status = !observed
            ? "pending"
            : observed.oneShot
              ? "completed"
              : e.routedServices?.[name]?.containerId === observed.containerId && observed.hostname
                ? "serving"
                : "running";
          return {
            name,
            image: d.image,
            digest: d.digest,
            url: serviceUrl(name, e.name, project, urls),
            status,
            node: observed?.node ?? null,
          } as const;
        })
      : null,
    node: e.observedNode,
    pullRequest:
      e.pullRequest === null ? null : { number: e.pullRequest, headSha: e.headSha, state: e.prState },
    readyAt: iso(e.readyAt),
    sleepingSince: iso(e.sleepingSince),
    lastRequestAt: iso(e.lastRequestAt),
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
  /** A compose project's deployment: each service's image, digest once staged, and URL (null: private). */
  services: z.array(serviceViewSchema).nullable(),
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
    services: d.services
      ? inFileOrder(project, d.services).map(([name, s]) => ({
          name,
          image: s.image,
          digest: s.digest,
          url: serviceUrl(name, e.name, project, urls),
        }))
      : null,
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
