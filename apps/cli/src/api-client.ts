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
      `no token: set EDGEPLANE_TOKEN, or run where ${path} exists (written by \`edgeplane up\`)`,
    );
  }
}

/** GET on the API with the caller's token; a non-2xx answer throws with the API's own message. */
export async function apiGet(env: ClientEnv, path: string): Promise<Response> {
  return apiRequest(env, "GET", path);
}

/** Any call on the API with the caller's token (and a JSON body); a non-2xx answer throws with the API's own message. */
export async function apiRequest(
  env: ClientEnv,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  const url = new URL(path, env.EDGEPLANE_API_URL);
  let response: Response;
  try {
    const headers: Record<string, string> = { authorization: `Bearer ${await token(env)}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`cannot reach the API at ${env.EDGEPLANE_API_URL}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {}
    throw new Error(`API answered ${response.status} for ${url.pathname}: ${message}`);
  }
  return response;
}
