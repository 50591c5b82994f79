import { domainName, parseImageRef, projectName } from "@edgeplane/domain";
import { renderPreviewImage } from "@edgeplane/github";
import { tlsSettings } from "@edgeplane/tls";
import { z } from "zod";
import { protectionInput } from "../gateway/protection.ts";

export const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be a valid environment variable name");

export const repositoryName = z
  .string()
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/,
    "must be a GitHub repository, owner/repo",
  )
  .transform((value) => value.toLowerCase());

const previewImageTemplate = z
  .string()
  .max(512)
  .superRefine((template, ctx) => {
    try {
      parseImageRef(renderPreviewImage(template, { number: 1, sha: "0".repeat(40), branch: "main" }));
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `does not render to an image reference: ${(error as Error).message}`,
      });
    }
  });

/** `host/repository-prefix`, e.g. `ghcr.io/acme/` or `127.0.0.1:5001/acme/web`. */
export const allowedImagePrefix = z
  .string()
  .max(300)
  .regex(/^[a-zA-Z0-9.-]+(?::[0-9]{1,5})?(?:\/[a-z0-9._/-]*)?$/, "must be host[:port]/repository-prefix");

/** `host[:port]` of a registry as image references name it: `ghcr.io`, `registry.example.com:5000`. */
const registryHostName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9.-]+(?::[0-9]{1,5})?$/, "must be a registry host[:port], as image references name it");

/**
 * Credentials per registry, write-only: sealed on the way in, never returned (a view lists the
 * registries only), presented only to that registry and only for this project's deployments.
 */
const registryCredentials = z
  .record(
    registryHostName,
    z.strictObject({ username: z.string().min(1).max(256), password: z.string().min(1).max(4096) }),
  )
  .refine((value) => Object.keys(value).length <= 20, "at most 20 registries");

export const serviceName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "must be a compose service name");

const settings = {
  healthcheckPath: z
    .string()
    .max(256)
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, "must be an absolute URL path"),
  env: z
    .record(envVarName, z.string().max(8192))
    .refine((env) => Object.keys(env).length <= 200, "at most 200 variables"),
  repository: repositoryName.nullable(),
  webhookSecret: z.string().min(16, "at least 16 characters").max(256).nullable(),
  previewImage: previewImageTemplate.nullable(),
  previewTtlHours: z
    .number()
    .int()
    .min(0, "0 turns expiry off")
    .max(24 * 365),
  deployDrafts: z.boolean(),
  requiredLabel: z.string().min(1).max(50).nullable(),
  allowForks: z.boolean(),
  allowedImages: z.array(allowedImagePrefix).max(50),
  memoryMb: z.number().int().min(16).max(16_384),
  cpuMillis: z.number().int().min(50).max(8000),
  /** Environments (not destroyed) the project may have; a deploy creating one more gets 409. */
  maxEnvironments: z.number().int().min(1).max(10_000),
  /** Replaced as a whole: a PATCH sends every field again, secrets included (they are write-only). */
  tls: tlsSettings,
  /**
   * A docker-compose file (YAML): each environment runs its services (see the README for the
   * subset accepted). Null: one container per environment, on `port`.
   */
  compose: z
    .string()
    .max(256 * 1024, "at most 256 KiB")
    .nullable(),
  /** The service at `{env}.{domain}`; null: the first service with a port. */
  primaryService: serviceName.nullable(),
  /** Image templates per service for pull request previews, like `previewImage`. */
  previewImages: z
    .record(serviceName, previewImageTemplate)
    .refine((value) => Object.keys(value).length <= 20, "at most 20 services")
    .nullable(),
  /** What all services of one environment may use together (compose projects). */
  environmentMemoryMb: z.number().int().min(16).max(262_144),
  environmentCpuMillis: z.number().int().min(50).max(128_000),
  /**
   * Who may reach the project's hosts: `{mode: "off"}`, or `{mode: "basic", username, password,
   * scope: "previews" | "all"}` (the password write-only, stored hashed). Replaced as a whole.
   */
  protection: protectionInput,
  /** Sent as `X-Edgeplane-Bypass` (or `?edgeplane_bypass=`) by automation to pass protection; write-only. */
  bypassToken: z.string().min(24, "at least 24 characters").max(256).nullable(),
  /** Previews idle (no request through the gateway) this long are put to sleep; 0: never; at least 10. */
  sleepAfterSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 3600)
    .refine((v) => v === 0 || v >= 10, "0 (never) or at least 10 seconds"),
  /** Fixed environments (dev, staging, prod) sleep too. */
  sleepFixed: z.boolean(),
  /** Replaced as a whole (write-only); null removes them. */
  registryCredentials: registryCredentials.nullable(),
};

export const createProjectInput = z.strictObject({
  name: projectName,
  // every hostname is `{environment}.{domain}` within DNS's 253 characters; a deploy whose hostname
  // would be longer is refused, and the domain must leave room for at least a short environment name
  domain: domainName.refine(
    (domain) => domain.length <= 253 - 9,
    "at most 244 characters: hostnames add an environment name and a dot within DNS's 253",
  ),
  port: z.number().int().min(1).max(65535),
  healthcheckPath: settings.healthcheckPath.default("/"),
  env: settings.env.default({}),
  repository: settings.repository.optional(),
  webhookSecret: settings.webhookSecret.optional(),
  previewImage: settings.previewImage.optional(),
  previewTtlHours: settings.previewTtlHours.default(72),
  deployDrafts: settings.deployDrafts.default(false),
  requiredLabel: settings.requiredLabel.optional(),
  allowForks: settings.allowForks.default(false),
  allowedImages: settings.allowedImages.default([]),
  memoryMb: settings.memoryMb.default(512),
  cpuMillis: settings.cpuMillis.default(1000),
  maxEnvironments: settings.maxEnvironments.default(50),
  tls: settings.tls.default({ mode: "off" }),
  registryCredentials: settings.registryCredentials.optional(),
  compose: settings.compose.default(null),
  primaryService: settings.primaryService.default(null),
  previewImages: settings.previewImages.default(null),
  environmentMemoryMb: settings.environmentMemoryMb.default(4096),
  environmentCpuMillis: settings.environmentCpuMillis.default(8000),
  protection: settings.protection.optional(),
  bypassToken: settings.bypassToken.optional(),
  sleepAfterSeconds: settings.sleepAfterSeconds.default(0),
  sleepFixed: settings.sleepFixed.default(false),
});
export type CreateProjectInput = z.infer<typeof createProjectInput>;

/** PATCH: any subset of the settings; name and domain identify hostnames and stay fixed. */
export const updateProjectInput = z
  .strictObject({
    port: z.number().int().min(1).max(65535),
    ...settings,
  })
  .partial()
  .refine((value) => Object.keys(value).length > 0, "nothing to update");
export type UpdateProjectInput = z.infer<typeof updateProjectInput>;
