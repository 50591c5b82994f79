import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadConfig } from "@edgeplane/config";
import { z } from "zod";

const clientEnv = z.object({
  EDGEPLANE_API_URL: z.string().url().default("http://127.0.0.1:3000"),
  /** A token that may read the projects in question; else the admin token in the state dir. */
  EDGEPLANE_TOKEN: z.string().min(1).optional(),
  EDGEPLANE_STATE_DIR: z.string().default(".edgeplane"),
  EDGEPLANE_GATEWAY_HOST: z.string().default("127.0.0.1"),
});
export type ClientEnv = z.infer<typeof clientEnv>;

export function loadClientEnv(): ClientEnv {
  return loadConfig(clientEnv);
}

async function token(env: ClientEnv): Promise<string> {
  if (env.EDGEPLANE_TOKEN) return env.EDGEPLANE_TOKEN;
  const path = join(resolve(env.EDGEPLANE_STATE_DIR), "admin-token");
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    throw new Error(
      `no token: set EDGEPLANE_TOKEN (or pass --token), or run where ${path} exists (written by \`edgeplane up\`)`,
    );
  }
}

/** An answer of the API other than 2xx: its status, its error code, and a message saying what to do next. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** What to do next after an error status, unless the caller knows better (`hints`). */
const NEXT: Record<number, string> = {
  401: "set EDGEPLANE_TOKEN (or --token) to a valid token with the read scope (deploy scope to deploy or destroy)",
  403: "use a token with the needed scope granted this project: an admin creates one with `edgeplane tokens create NAME --project PROJECT`",
  404: "`edgeplane projects ls` and `edgeplane ls` list what your token can see",
  429: "too many requests: wait a minute and retry",
  500: "edgeplane failed unexpectedly: its log (the terminal running `npm start`) says why",
  503: "edgeplane's Postgres or Redis is unavailable: retry shortly, or check the terminal running `npm start`",
};

export interface RequestOptions {
  /** What to do next, per status, for this call (in place of the general advice). */
  hints?: Partial<Record<number, string>>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** GET on the API with the caller's token; a non-2xx answer throws with the API's own message. */
export async function apiGet(env: ClientEnv, path: string, options?: RequestOptions): Promise<Response> {
  return apiRequest(env, "GET", path, undefined, options);
}

/** GET a JSON answer. */
export async function apiJson<T>(env: ClientEnv, path: string, options?: RequestOptions): Promise<T> {
  return (await (await apiGet(env, path, options)).json()) as T;
}

/**
 * Any call on the API with the caller's token (and a JSON body). A non-2xx answer throws an
 * ApiError with the API's own message and what to do next; an unreachable API says how to start it.
 */
export async function apiRequest(
  env: ClientEnv,
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<Response> {
  const url = new URL(path, env.EDGEPLANE_API_URL);
  const headers: Record<string, string> = {
    ...options.headers,
    authorization: `Bearer ${await token(env)}`,
  };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `cannot reach the API at ${env.EDGEPLANE_API_URL} (${cause?.code ?? cause?.message ?? (error as Error).message}): ` +
        "is edgeplane running? start it with `npm start`, or set EDGEPLANE_API_URL (or --api-url) to where it runs",
    );
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    let code: string | null = null;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      message = parsed.error?.message ?? text;
      code = parsed.error?.code ?? null;
    } catch {}
    const next = options.hints?.[response.status] ?? NEXT[response.status];
    throw new ApiError(
      response.status,
      code,
      `API answered ${response.status} for ${url.pathname}: ${message}${next ? `\n  next: ${next}` : ""}`,
    );
  }
  return response;
}
