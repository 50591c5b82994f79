import {
  and,
  type Db,
  type DeploymentRow,
  deployments,
  desc,
  eq,
  isNotNull,
  type ProjectRow,
} from "@edgeplane/db";
import { type EdgeRegistry, type ImageRef, parseImageRef, runtimeRef, servedByEdge } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import { DelayedError, type JobContext } from "@edgeplane/queue";
import {
  ManifestNotFoundError,
  openCredentials,
  type Platform,
  type RegistryClient,
  type RegistryCredentials,
  RegistryError,
  RegistryUnavailableError,
  SealedCredentialsError,
  warmImage,
} from "@edgeplane/registry";
import type { Runtime } from "@edgeplane/runtime";
import { noteDeployment, setStatusDetail } from "../state.ts";
import { PermanentFailure } from "../step.ts";
import { formatDuration, nextImageCheckDelay } from "./image-wait.ts";
import { type ImagePullDeps, pullRuntimeImage, touchRuntimeImage } from "./runtime-images.ts";

export const WAITING_FOR_IMAGE = "waiting for image";

/** What staging needs beyond a worker's basics: the artifact path's registries and runtime. */
export interface ArtifactDeps extends ImagePullDeps {
  db: Db;
  /** Speaks to the primary (with its credentials) and to the edge. */
  registry: RegistryClient;
  runtime: Runtime;
  /** The edge cache in front of the primary; null: pull straight from each image's registry. */
  edge: EdgeRegistry | null;
  /** How long to wait for an image that is not pushed yet, counted from the deployment's queuedAt. */
  waitForImageMs: number;
  /** Which entry of a multi-platform index the runtime runs. */
  platform: Platform;
  /** Opens projects' registry credentials (EDGEPLANE_CREDENTIALS_KEY); unset: they cannot be used. */
  credentialsKey?: string;
}

/**
 * What staging uses for one project's image: with credentials of the project's own for the image's
 * registry, a client and pull credentials presenting those (to that registry only), and an access
 * check even for a digest (an image another project pulled is not reused without it); otherwise
 * the worker's own.
 */
export function projectArtifactDeps(
  deps: ArtifactDeps,
  project: ProjectRow,
  ref: ImageRef,
): { deps: ArtifactDeps; checkAccess: boolean; ownCredentials: boolean } {
  // a digest is taken as is only from the edge's primary (the operator's registry, where a deploy by
  // digest works while it is down); from any other registry the runtime's copy, which another
  // project may have pulled, is used only once the registry has let this project read it
  const anonymous = {
    deps,
    checkAccess: ref.digest !== null && !servedByEdge(ref, deps.edge),
    ownCredentials: false,
  };
  if (!project.registryCredentials || !project.registryCredentialHosts.includes(ref.registry))
    return anonymous;
  if (!deps.credentialsKey)
    throw new PermanentFailure(
      `project ${project.name} has credentials for ${ref.registry}, but this worker has no EDGEPLANE_CREDENTIALS_KEY to open them`,
    );
  let credentials: RegistryCredentials | undefined;
  try {
    credentials = openCredentials(project.registryCredentials, deps.credentialsKey)[ref.registry];
  } catch (error) {
    if (error instanceof SealedCredentialsError) throw new PermanentFailure(error.message);
    throw error;
  }
  if (!credentials) return anonymous;
  const registry = deps.registry.withCredentials(ref.registry, credentials);
  const pullAuth = (image: string) =>
    parseImageRef(image).registry === ref.registry
      ? { ...credentials, serveraddress: ref.registry }
      : deps.pullAuth?.(image);
  return { deps: { ...deps, registry, pullAuth }, checkAccess: true, ownCredentials: true };
}

/**
 * The digest a deployment is pinned to. A digest in the request is taken as is (nothing asked of
 * the primary, so a deploy by digest works while it is down). A tag is resolved at the primary:
 * - not there (yet): the job waits with backoff (BullMQ delayed, showing `waiting for image`) up to
 *   `waitForImageMs` from the request, then fails naming the reference;
 * - primary unreachable: the digest this exact reference was last staged as is used (the edge or
 *   the runtime holds it), and an event on the deployment says so; with none, the error is
 *   retried like any other. A tag moved at the primary meanwhile cannot be seen until it is back.
 */
export async function resolveStageDigest(
  deps: ArtifactDeps,
  ctx: JobContext,
  ref: ImageRef,
  deployment: DeploymentRow | null,
  options: { checkAccess?: boolean; ownCredentials?: boolean } = {},
): Promise<string> {
  if (ref.digest && !options.checkAccess) return ref.digest;
  const { envelope, log } = ctx;
  try {
    return await deps.registry.resolveDigest(ref);
  } catch (error) {
    if (error instanceof ManifestNotFoundError) {
      const queuedAt = deployment?.queuedAt.getTime() ?? ctx.job.timestamp;
      const delay = nextImageCheckDelay(Date.now() - queuedAt, deps.waitForImageMs);
      if (delay === null) {
        throw new PermanentFailure(
          `image ${envelope.image} not found: ${ref.registry} has no ${ref.tag ? `tag ${ref.tag}` : "such manifest"} for ${ref.repository} after waiting ${formatDuration(deps.waitForImageMs)} for it to be pushed`,
        );
      }
      if (!ctx.token) throw error; // cannot park the job without its lock: a plain retry then
      await setStatusDetail(
        deps.db,
        envelope.deploymentId,
        WAITING_FOR_IMAGE,
        `waiting for ${envelope.image} to be pushed`,
      );
      log.info({ image: envelope.image, retryInMs: delay }, "waiting for image");
      await ctx.job.moveToDelayed(Date.now() + delay, ctx.token);
      throw new DelayedError();
    }
    // with the project's own credentials, access is checked every time: no fallback without it
    if (error instanceof RegistryUnavailableError && envelope.image && !options.checkAccess) {
      const staged = await lastStagedDigest(deps.db, envelope.image);
      if (staged) {
        log.warn(
          { image: envelope.image, digest: staged, err: error.message },
          "primary unreachable; using the digest staged before",
        );
        await noteDeployment(
          deps.db,
          envelope.deploymentId,
          `primary registry unreachable (${error.message}); using ${staged}, staged before for ${envelope.image}`,
        );
        return staged;
      }
    }
    // refused outright (401/403): credentials must change first, so retrying cannot help
    if (error instanceof RegistryError && (error.status === 401 || error.status === 403)) {
      throw new PermanentFailure(
        options.ownCredentials
          ? `${error.message}: check the credentials set for ${ref.registry}`
          : `${error.message}: a private image needs the project's registryCredentials for ${ref.registry}`,
      );
    }
    throw error;
  }
}

/** The digest `image` (the exact reference requested) was last staged as, if ever. */
export async function lastStagedDigest(db: Db, image: string): Promise<string | null> {
  const [row] = await db
    .select({ digest: deployments.digest })
    .from(deployments)
    .where(and(eq(deployments.image, image), isNotNull(deployments.digest)))
    .orderBy(desc(deployments.createdAt))
    .limit(1);
  return row?.digest ?? null;
}

/**
 * Makes the image present on the runtime and returns the reference it runs as. Through the edge:
 * warm the edge with the manifest and its blobs (fetching from the primary what it lacks), then
 * pull `edge/repo@digest`. An image the runtime already has needs neither (and so a redeploy of
 * it works with the primary, or the edge, down).
 */
export async function stageOnRuntime(
  deps: ArtifactDeps,
  ref: ImageRef,
  digest: string,
  log: Logger,
): Promise<string> {
  const image = runtimeRef(ref, digest, deps.edge);
  if (await deps.runtime.hasImage(image)) {
    await touchRuntimeImage(deps.db, image);
    log.info({ image }, "image already on the runtime");
    return image;
  }
  if (servedByEdge(ref, deps.edge)) {
    const started = Date.now();
    const warm = await warmImage(deps.registry, {
      registry: deps.edge.registry,
      repository: ref.repository,
      digest,
      platform: deps.platform,
    });
    const fields = { edge: deps.edge.registry, ...warm, ms: Date.now() - started };
    if (warm.unconfirmed > 0) log.warn(fields, "edge registry has not confirmed storing every blob yet");
    else log.info(fields, "edge registry warmed");
  }
  await pullRuntimeImage(deps, image, digest);
  return image;
}
