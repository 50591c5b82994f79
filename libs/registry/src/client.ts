import { createHash } from "node:crypto";
import type { ImageRef } from "@edgeplane/domain";
import { ManifestNotFoundError, RegistryError, RegistryUnavailableError } from "./errors.ts";
import { MANIFEST_TYPES } from "./manifest.ts";

const ACCEPT_MANIFESTS = MANIFEST_TYPES.join(", ");
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** Registries spoken to over plain HTTP; loopback hosts always are. */
  insecure?: string[];
  /** Credentials for a registry, presented in its bearer (or basic) challenge; never logged. */
  credentials?: (registry: string) => RegistryCredentials | undefined;
  /** Per request for manifests and tokens. */
  timeoutMs?: number;
  /** Per blob download, body included. */
  blobTimeoutMs?: number;
  fetch?: typeof fetch;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string | null;
  body: Buffer;
}

function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "");
  return host === "localhost" || host.startsWith("127.") || host === "[::1]";
}

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/**
 * A minimal OCI distribution client: resolve a tag to the digest the registry serves for it, read
 * manifests and blobs (verifying their digests). Speaks the bearer challenge of ghcr.io and Docker
 * Hub, and basic auth, with the credentials `options.credentials` gives for that registry only.
 */
export class RegistryClient {
  private readonly fetch: typeof fetch;
  private readonly tokens = new Map<string, string>();

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  baseUrl(registry: string): string {
    const insecure = isLoopback(registry) || (this.options.insecure ?? []).includes(registry);
    const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
    return `${insecure ? "http" : "https"}://${host}`;
  }

  /** The digest of the manifest `ref` names now; ManifestNotFoundError if it does not exist (yet). */
  async resolveDigest(ref: ImageRef): Promise<string> {
    const reference = ref.digest ?? ref.tag;
    if (!reference) throw new RegistryError("image reference has neither tag nor digest");
    const url = this.manifestUrl(ref.registry, ref.repository, reference);
    let response = await this.request(ref.registry, ref.repository, url, "HEAD");
    this.check(response, ref.registry, ref.repository, reference);
    const header = response.headers.get("docker-content-digest");
    if (header && DIGEST.test(header)) return header;
    response = await this.request(ref.registry, ref.repository, url, "GET");
    this.check(response, ref.registry, ref.repository, reference);
    return sha256(Buffer.from(await response.arrayBuffer()));
  }

  /** A manifest or index by tag or digest; fetched by digest, its content is verified against it. */
  async getManifest(registry: string, repository: string, reference: string): Promise<FetchedManifest> {
    const response = await this.request(
      registry,
      repository,
      this.manifestUrl(registry, repository, reference),
      "GET",
    );
    this.check(response, registry, repository, reference);
    const body = Buffer.from(await response.arrayBuffer());
    const digest = sha256(body);
    if (DIGEST.test(reference) && digest !== reference) {
      throw new RegistryError(
        `registry ${registry} served ${repository}@${reference} with content of digest ${digest}`,
      );
    }
    return { digest, mediaType: response.headers.get("content-type"), body };
  }

  /**
   * Downloads a blob to the end and verifies its digest (through a pull-through cache, the first
   * GET is also what makes the cache fetch and store it). Returns its size in bytes.
   */
  async fetchBlob(registry: string, repository: string, digest: string): Promise<number> {
    if (!DIGEST.test(digest)) throw new RegistryError(`invalid blob digest ${digest.slice(0, 80)}`);
    const url = `${this.baseUrl(registry)}/v2/${repository}/blobs/${digest}`;
    const timeoutMs = this.options.blobTimeoutMs ?? 10 * 60_000;
    const response = await this.request(registry, repository, url, "GET", timeoutMs);
    if (response.status === 404)
      throw new RegistryError(`blob ${digest} of ${registry}/${repository} does not exist`, 404);
    this.check(response, registry, repository, digest);
    if (!response.body) throw new RegistryError(`registry ${registry} sent no body for blob ${digest}`);
    const hash = createHash("sha256");
    let bytes = 0;
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        bytes += value.byteLength;
      }
    } catch (error) {
      throw new RegistryUnavailableError(
        `download of blob ${digest} from ${registry} broke off: ${(error as Error).message}`,
      );
    }
    const actual = `sha256:${hash.digest("hex")}`;
    if (actual !== digest)
      throw new RegistryError(`registry ${registry} served blob ${digest} with content of digest ${actual}`);
    return bytes;
  }

  /**
   * Whether the registry serves a byte range of a blob. A distribution pull-through cache (2.8)
   * stores a blob in the background after the first GET of it, and answers a range (206) only
   * from its own storage; from its upstream it streams the whole blob (200). So a 206 says the
   * blob is in the cache for good.
   */
  async servesBlobRange(registry: string, repository: string, digest: string): Promise<boolean> {
    const url = `${this.baseUrl(registry)}/v2/${repository}/blobs/${digest}`;
    const response = await this.request(registry, repository, url, "GET", undefined, { Range: "bytes=0-0" });
    await response.body?.cancel().catch(() => {});
    return response.status === 206;
  }

  private manifestUrl(registry: string, repository: string, reference: string): string {
    return `${this.baseUrl(registry)}/v2/${repository}/manifests/${reference}`;
  }

  /** Maps a registry's answer to the errors callers act on: not found, unavailable, refused. */
  private check(response: Response, registry: string, repository: string, reference: string): void {
    if (response.ok) return;
    const separator = DIGEST.test(reference) ? "@" : ":";
    if (response.status === 404) {
      throw new ManifestNotFoundError(
        `${registry}/${repository}${separator}${reference} does not exist in the registry`,
      );
    }
    const message = `registry ${registry} answered ${response.status} for ${repository}${separator}${reference}`;
    if (response.status >= 500) throw new RegistryUnavailableError(message, response.status);
    throw new RegistryError(message, response.status);
  }

  private async request(
    registry: string,
    repository: string,
    url: string,
    method: "HEAD" | "GET",
    timeoutMs = this.options.timeoutMs ?? 15_000,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const scope = `repository:${repository}:pull`;
    const tokenKey = `${registry}|${scope}`;
    const send = (authorization?: string) =>
      this.fetch(url, {
        method,
        headers: {
          Accept: ACCEPT_MANIFESTS,
          ...extraHeaders,
          ...(authorization ? { Authorization: authorization } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      }).catch((error: Error) => {
        throw new RegistryUnavailableError(`registry ${registry} unreachable: ${describe(error)}`);
      });
    const cached = this.tokens.get(tokenKey);
    let response = await send(cached);
    if (response.status === 401) {
      const authorization = await this.authorize(
        registry,
        response.headers.get("www-authenticate") ?? "",
        scope,
      );
      if (authorization) {
        await response.body?.cancel();
        this.tokens.set(tokenKey, authorization);
        response = await send(authorization);
      }
    }
    return response;
  }

  /** Answers a registry's challenge: a scoped bearer token (ghcr.io, Docker Hub) or basic auth. */
  private async authorize(registry: string, challenge: string, scope: string): Promise<string | undefined> {
    const credentials = this.options.credentials?.(registry);
    const basic = credentials
      ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`
      : undefined;
    if (/^Basic /i.test(challenge)) return basic;
    if (!/^Bearer /i.test(challenge)) return undefined;
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]?.toLowerCase(), m[2]]),
    ) as Record<string, string | undefined>;
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", params.scope ?? scope);
    const response = await this.fetch(url, {
      headers: basic ? { Authorization: basic } : {},
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
    }).catch((error: Error) => {
      throw new RegistryUnavailableError(`token endpoint of ${registry} unreachable: ${describe(error)}`);
    });
    if (!response.ok) {
      const message = `token endpoint of ${registry} answered ${response.status}`;
      throw response.status >= 500
        ? new RegistryUnavailableError(message, response.status)
        : new RegistryError(message, response.status);
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }
}

/** undici hides the reason (ECONNREFUSED, timeout) in `cause`. */
function describe(error: Error): string {
  const cause = error.cause as { message?: string; code?: string } | undefined;
  return cause ? String(cause.code ?? cause.message ?? cause) : error.message;
}
