import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { ImageRef } from "@edgeplane/domain";
import {
  hostOf,
  isForbiddenAddress,
  isLoopbackHost,
  isMetadataName,
  type Lookup,
  systemLookup,
} from "./addresses.ts";
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
  /** Per request for manifests and tokens, body included (default 30 s). */
  timeoutMs?: number;
  /** Per blob download, body included. */
  blobTimeoutMs?: number;
  fetch?: typeof fetch;
  /** Resolves a token endpoint's host, to refuse one that resolves to a link-local address. */
  lookup?: Lookup;
  /**
   * Where the registry's own answers go (status codes, refused token endpoints): logs only. Errors
   * thrown carry a generic message, since they end up on deployments (and their status page).
   * Never given credentials or tokens.
   */
  log?: (fields: Record<string, unknown>, message: string) => void;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string | null;
  body: Buffer;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function isLoopback(registry: string): boolean {
  const host = hostOf(registry);
  return host !== undefined && isLoopbackHost(host);
}

/** A request that hit its deadline: `fetch` rejects (or a body read breaks off) with a TimeoutError. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || isTimeout(error.cause));
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

  /**
   * A client like this one that presents `credentials` to `registry` and nothing to any other (a
   * project's own credentials), with a token cache of its own: a token one project's credentials
   * earned is never presented for another's.
   */
  withCredentials(registry: string, credentials: RegistryCredentials): RegistryClient {
    return new RegistryClient({
      ...this.options,
      credentials: (host) => (host === registry ? credentials : undefined),
    });
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
    return sha256(await this.body(response, ref.registry, "a manifest", this.timeoutMs));
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
    const body = await this.body(response, registry, "a manifest", this.timeoutMs);
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
    if (!response.body)
      throw new RegistryUnavailableError(`registry ${registry} sent no body for blob ${digest}`);
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
        isTimeout(error)
          ? `download of blob ${digest} from ${registry} timed out after ${timeoutMs} ms`
          : `download of blob ${digest} from ${registry} broke off`,
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
    const image = `${repository}${separator}${reference}`;
    // the status goes to the logs and the error's `status`; the message stays generic
    this.detail({ registry, image, status: response.status }, "registry answered with an error");
    void response.body?.cancel().catch(() => {});
    if (response.status >= 500)
      throw new RegistryUnavailableError(`registry ${registry} is unavailable`, response.status);
    if (response.status === 401 || response.status === 403)
      throw new RegistryError(`registry ${registry} refused access to ${image}`, response.status);
    throw new RegistryError(`registry ${registry} could not serve ${image}`, response.status);
  }

  private detail(fields: Record<string, unknown>, message: string): void {
    this.options.log?.(fields, message);
  }

  /** Reads a body under the request's deadline; a timeout or a break names what was being read. */
  private async body(response: Response, registry: string, what: string, timeoutMs: number): Promise<Buffer> {
    try {
      return Buffer.from(await response.arrayBuffer());
    } catch (error) {
      if (isTimeout(error))
        throw new RegistryUnavailableError(
          `registry ${registry} timed out after ${timeoutMs} ms sending ${what}`,
        );
      throw new RegistryUnavailableError(`registry ${registry} broke off sending ${what}`);
    }
  }

  private async request(
    registry: string,
    repository: string,
    url: string,
    method: "HEAD" | "GET",
    timeoutMs = this.timeoutMs,
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
        if (isTimeout(error))
          throw new RegistryUnavailableError(
            `registry ${registry} timed out: no answer within ${timeoutMs} ms for ${repository}`,
          );
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
    const url = await this.tokenEndpoint(registry, params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", params.scope ?? scope);
    const timeoutMs = this.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    const response = await this.fetch(url, {
      headers: basic ? { Authorization: basic } : {},
      // a redirect would lead the credentials past the checks of tokenEndpoint
      redirect: "manual",
      signal,
    }).catch((error: Error) => {
      if (isTimeout(error))
        throw new RegistryUnavailableError(
          `token endpoint of ${registry} timed out: no answer within ${timeoutMs} ms`,
        );
      throw new RegistryUnavailableError(`token endpoint of ${registry} unreachable: ${describe(error)}`);
    });
    if (!response.ok) {
      void response.body?.cancel().catch(() => {});
      this.detail({ registry, status: response.status }, "token endpoint answered with an error");
      if (response.status >= 500)
        throw new RegistryUnavailableError(`token endpoint of ${registry} is unavailable`, response.status);
      if (response.status === 401 || response.status === 403)
        throw new RegistryError(`token endpoint of ${registry} refused the credentials`, response.status);
      throw new RegistryError(`token endpoint of ${registry} gave no token`, response.status);
    }
    const text = (await this.body(response, registry, "a token", timeoutMs)).toString("utf8");
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // the parser's message quotes the body: keep it out of the error
      this.detail({ registry }, "token endpoint answered with something other than JSON");
      throw new RegistryError(`token endpoint of ${registry} gave no token`);
    }
    const token = body?.token ?? body?.access_token;
    return typeof token === "string" && token !== "" ? `Bearer ${token}` : undefined;
  }

  /**
   * The URL of the token endpoint a registry's challenge names, if it is a place credentials may go:
   * https, or plain http when both the registry and the endpoint are loopback; never a link-local or
   * cloud-metadata address, whatever the scheme (also checked on what its name resolves to). The
   * refusal names no part of the realm: the registry chose it.
   */
  private async tokenEndpoint(registry: string, realm: string): Promise<URL> {
    const refuse = (reason: string): never => {
      this.detail({ registry, realm, reason }, "refused the token endpoint a registry named");
      throw new RegistryError(`refused the token endpoint registry ${registry} named: ${reason}`);
    };
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      return refuse("not a URL");
    }
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    if (url.protocol !== "https:" && url.protocol !== "http:") return refuse("not http(s)");
    if (url.username || url.password) return refuse("carries credentials");
    if (url.protocol === "http:" && !(isLoopback(registry) && isLoopbackHost(host)))
      return refuse("plain http is only followed from a loopback registry to loopback");
    if (isMetadataName(host) || isForbiddenAddress(host)) return refuse("a link-local or metadata address");
    if (isIP(host) === 0 && host !== "localhost") {
      const addresses = await (this.options.lookup ?? systemLookup)(host).catch(() => {
        throw new RegistryUnavailableError(
          `token endpoint of ${registry} unreachable: its name does not resolve`,
        );
      });
      if (addresses.some((a) => isForbiddenAddress(a.address)))
        return refuse("a name resolving to a link-local or metadata address");
      if (url.protocol === "http:" && !addresses.every((a) => isLoopbackHost(a.address)))
        return refuse("plain http is only followed from a loopback registry to loopback");
    }
    return url;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }
}

/** undici hides the reason (ECONNREFUSED, timeout) in `cause`. */
function describe(error: Error): string {
  const cause = error.cause as { message?: string; code?: string } | undefined;
  return cause ? String(cause.code ?? cause.message ?? cause) : error.message;
}
