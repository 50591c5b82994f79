import { createHash } from "node:crypto";
import type { ImageRef } from "@edgeplane/domain";
import { ManifestNotFoundError, RegistryError } from "./errors.ts";

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** Registries spoken to over plain HTTP; loopback hosts always are. */
  insecure?: string[];
  credentials?: (registry: string) => RegistryCredentials | undefined;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "");
  return host === "localhost" || host.startsWith("127.") || host === "[::1]";
}

/** A minimal OCI distribution client: resolve a tag to the digest the registry serves for it. */
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
    const url = `${this.baseUrl(ref.registry)}/v2/${ref.repository}/manifests/${reference}`;
    let response = await this.request(ref, url, "HEAD");
    if (response.status === 404) {
      throw new ManifestNotFoundError(`${ref.registry}/${ref.repository}:${reference} does not exist in the registry`);
    }
    if (!response.ok) {
      throw new RegistryError(`registry ${ref.registry} answered ${response.status} for ${ref.repository}`, response.status);
    }
    const header = response.headers.get("docker-content-digest");
    if (header && /^sha256:[a-f0-9]{64}$/.test(header)) return header;
    response = await this.request(ref, url, "GET");
    if (!response.ok) {
      throw new RegistryError(`registry ${ref.registry} answered ${response.status} for ${ref.repository}`, response.status);
    }
    return `sha256:${createHash("sha256").update(Buffer.from(await response.arrayBuffer())).digest("hex")}`;
  }

  private async request(ref: ImageRef, url: string, method: "HEAD" | "GET"): Promise<Response> {
    const scope = `repository:${ref.repository}:pull`;
    const tokenKey = `${ref.registry}|${scope}`;
    const send = (token?: string) =>
      this.fetch(url, {
        method,
        headers: { Accept: MANIFEST_TYPES, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      }).catch((error: Error) => {
        throw new RegistryError(`registry ${ref.registry} unreachable: ${error.cause ? String((error.cause as Error).message ?? error.cause) : error.message}`);
      });
    let response = await send(this.tokens.get(tokenKey));
    if (response.status === 401) {
      const challenge = response.headers.get("www-authenticate") ?? "";
      const token = await this.fetchToken(ref.registry, challenge, scope);
      if (token) {
        this.tokens.set(tokenKey, token);
        response = await send(token);
      }
    }
    return response;
  }

  /** The registry's bearer challenge (ghcr.io, Docker Hub): trade credentials for a scoped token. */
  private async fetchToken(registry: string, challenge: string, scope: string): Promise<string | undefined> {
    if (!/^Bearer /i.test(challenge)) return undefined;
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]?.toLowerCase(), m[2]]),
    ) as Record<string, string | undefined>;
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", params.scope ?? scope);
    const credentials = this.options.credentials?.(registry);
    const headers: Record<string, string> = {};
    if (credentials) {
      headers.Authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
    }
    const response = await this.fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000) });
    if (!response.ok) throw new RegistryError(`token endpoint of ${registry} answered ${response.status}`, response.status);
    const body = (await response.json()) as { token?: string; access_token?: string };
    return body.token ?? body.access_token;
  }
}
