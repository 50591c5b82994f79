import { z } from "zod";
import type { DeploymentStatusState } from "./deployment-state.ts";
import { STICKY_MARKER } from "./sticky-comment.ts";

export interface GithubClientOptions {
  /** REST root; `https://<host>/api/v3` for GitHub Enterprise Server. */
  baseUrl?: string;
  token: string;
  fetch?: typeof fetch;
  userAgent?: string;
  /** Per request, body included: an unanswered request fails with a GithubApiError saying so (default 30 s). */
  timeoutMs?: number;
}

export interface CreateDeploymentInput {
  owner: string;
  repo: string;
  ref: string;
  environment: string;
  description: string;
}

export interface DeploymentStatusInput {
  state: DeploymentStatusState;
  environment_url?: string;
  log_url?: string;
  description?: string;
}

/**
 * A non-2xx answer (or an unusable one) from the GitHub REST API; status 0 when the client refused to
 * send the request (a pagination link to another origin) or got no answer in time. The message never
 * carries the token.
 */
export class GithubApiError extends Error {
  override name = "GithubApiError";
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const withId = z.looseObject({ id: z.number().int() });
const comments = z.array(z.looseObject({ id: z.number().int(), body: z.string().nullish() }));
const errorBody = z.looseObject({ message: z.string() });

// GitHub rejects longer deployment status descriptions.
const STATUS_DESCRIPTION_MAX = 140;

function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(",")) {
    const match = /^\s*<([^>]+)>\s*;\s*rel="([^"]+)"/.exec(part);
    if (match?.[2]?.split(/\s+/).includes("next")) return match[1] ?? null;
  }
  return null;
}

/** Reports preview status to GitHub: deployments, their statuses, and one sticky PR comment. */
export class GithubStatusClient {
  readonly #baseUrl: URL;
  readonly #token: string;
  readonly #fetch: typeof fetch;
  readonly #userAgent: string;
  readonly #timeoutMs: number;

  constructor(options: GithubClientOptions) {
    if (!options.token) throw new TypeError("GitHub token is empty");
    this.#baseUrl = new URL(`${(options.baseUrl ?? "https://api.github.com").replace(/\/+$/, "")}/`);
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#userAgent = options.userAgent ?? "edgeplane";
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async createDeployment(input: CreateDeploymentInput): Promise<number> {
    const body = await this.#request("POST", `${repoPath(input.owner, input.repo)}/deployments`, {
      ref: input.ref,
      environment: input.environment,
      description: input.description,
      auto_merge: false,
      required_contexts: [],
      transient_environment: true,
      production_environment: false,
    });
    return parseBody(body, withId).id;
  }

  async createDeploymentStatus(
    owner: string,
    repo: string,
    deploymentId: number,
    status: DeploymentStatusInput,
  ): Promise<number> {
    const path = `${repoPath(owner, repo)}/deployments/${deploymentId}/statuses`;
    const payload = {
      ...status,
      ...(status.description === undefined
        ? {}
        : { description: status.description.slice(0, STATUS_DESCRIPTION_MAX) }),
    };
    const body = await this.#request("POST", path, payload);
    return parseBody(body, withId).id;
  }

  /** Updates the comment carrying STICKY_MARKER, or creates it; the marker is added if missing. */
  async upsertStickyComment(
    owner: string,
    repo: string,
    issueNumber: number,
    body: string,
  ): Promise<{ id: number; created: boolean }> {
    const text = body.includes(STICKY_MARKER) ? body : `${STICKY_MARKER}\n${body}`;
    const listPath = `${repoPath(owner, repo)}/issues/${issueNumber}/comments`;
    let page: string | null = `${listPath}?per_page=100`;
    while (page !== null) {
      const response = await this.#request("GET", page);
      const existing = parseBody(response, comments).find((comment) => comment.body?.includes(STICKY_MARKER));
      if (existing) {
        const path = `${repoPath(owner, repo)}/issues/comments/${existing.id}`;
        await this.#request("PATCH", path, { body: text });
        return { id: existing.id, created: false };
      }
      page = nextLink(response.link);
    }
    const created = await this.#request("POST", listPath, { body: text });
    return { id: parseBody(created, withId).id, created: true };
  }

  /** `pathOrUrl` is relative to baseUrl, or an absolute pagination link on the same origin. */
  async #request(method: string, pathOrUrl: string, payload?: unknown): Promise<GithubResponse> {
    const url = new URL(pathOrUrl.replace(/^\/+/, ""), this.#baseUrl);
    if (url.origin !== this.#baseUrl.origin) {
      throw new GithubApiError(0, method, url.pathname, `refusing to send credentials to ${url.origin}`);
    }
    const timedOut = (error: unknown): never => {
      if (error instanceof Error && error.name === "TimeoutError") {
        throw new GithubApiError(
          0,
          method,
          url.pathname,
          `GitHub ${method} ${url.pathname} timed out: no answer within ${this.#timeoutMs} ms`,
        );
      }
      throw error;
    };
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const response = await this.#fetch(url, {
      method,
      signal,
      headers: {
        Authorization: `Bearer ${this.#token}`,
        Accept: "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": this.#userAgent,
        ...(payload === undefined ? {} : { "Content-Type": "application/json" }),
      },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    }).catch(timedOut);
    const text = await response.text().catch(timedOut);
    if (!response.ok) {
      const detail = errorBody.safeParse(safeJson(text));
      const reason = detail.success ? detail.data.message : response.statusText;
      throw new GithubApiError(
        response.status,
        method,
        url.pathname,
        this.#redact(`GitHub ${method} ${url.pathname} failed with ${response.status}: ${reason}`),
      );
    }
    return {
      method,
      path: url.pathname,
      status: response.status,
      json: safeJson(text),
      link: response.headers.get("link"),
    };
  }

  #redact(message: string): string {
    return message.split(this.#token).join("[redacted]");
  }
}

interface GithubResponse {
  method: string;
  path: string;
  status: number;
  json: unknown;
  link: string | null;
}

function parseBody<T>(response: GithubResponse, schema: z.ZodType<T>): T {
  const result = schema.safeParse(response.json);
  if (result.success) return result.data;
  const { method, path, status } = response;
  throw new GithubApiError(
    status,
    method,
    path,
    `GitHub ${method} ${path} answered ${status} with an unexpected body`,
  );
}

function repoPath(owner: string, repo: string): string {
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
}

function safeJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
