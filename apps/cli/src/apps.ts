import { apiEnv, ingressEnv, janitorEnv, notifyEnv, reconcileEnv, stageEnv } from "@edgeplane/config";
import { InvalidArgumentError } from "commander";
import type { KeyName } from "./state.ts";

// The apps `edgeplane up` can start, apart from `up` itself (which loads far more), so that every
// other command (and `up --only`'s check of its names) starts quickly.

/**
 * Each process `edgeplane up` starts, run as compiled JavaScript (`npm run build:apps`, scripts/build.mjs),
 * and the keys it needs (see state.ts): from the state dir, or from the variable named beside one,
 * which wins when set (set empty, it turns what the key is for off).
 */
export const APPS = [
  {
    name: "api",
    entry: "apps/api/dist/main.js",
    // the one process whose speed is measured in requests per second (see nodeFlags)
    throughput: true,
    schema: apiEnv,
    keys: {
      apiKey: null,
      key: null,
      credentialsKey: "EDGEPLANE_CREDENTIALS_PUBLIC_KEY",
      adminToken: "EDGEPLANE_ADMIN_TOKEN",
    },
  },
  {
    name: "worker-stage",
    entry: "apps/worker-stage/dist/main.js",
    throughput: false,
    schema: stageEnv,
    keys: { key: null, apiKey: null, credentialsKey: "EDGEPLANE_CREDENTIALS_KEY" },
  },
  {
    name: "worker-reconcile",
    entry: "apps/worker-reconcile/dist/main.js",
    throughput: false,
    schema: reconcileEnv,
    keys: { key: null, apiKey: null },
  },
  {
    name: "worker-ingress",
    entry: "apps/worker-ingress/dist/main.js",
    throughput: false,
    schema: ingressEnv,
    keys: { key: null, caKey: "EDGEPLANE_CA_KEY" },
  },
  {
    name: "janitor",
    entry: "apps/janitor/dist/main.js",
    throughput: false,
    schema: janitorEnv,
    keys: { key: null, apiKey: null },
  },
  {
    name: "worker-github",
    entry: "apps/worker-github/dist/main.js",
    throughput: false,
    schema: notifyEnv,
    keys: { key: null, apiKey: null },
  },
] as const satisfies ReadonlyArray<{
  name: string;
  entry: string;
  /** False: the process waits on Postgres, Redis and Docker, and trades code speed for memory. */
  throughput: boolean;
  schema: unknown;
  keys: Partial<Record<KeyName, string | null>>;
}>;

export type AppName = (typeof APPS)[number]["name"];
export const APP_NAMES: readonly AppName[] = APPS.map((app) => app.name);

/** `--only api,worker-stage`: the apps named, in the order `up` starts them; an unknown name is refused. */
export function parseApps(list: string): AppName[] {
  const names = list
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(APP_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    const what =
      unknown.length > 0 ? `unknown app ${unknown.map((n) => JSON.stringify(n)).join(", ")}` : "no app";
    throw new InvalidArgumentError(`${what}: the apps are ${APP_NAMES.join(", ")}`);
  }
  return APP_NAMES.filter((name) => names.includes(name));
}

/**
 * The keys `apps` read from the state dir (no variable gives them), each with who needs it: an app,
 * and the variable that would give it that key instead (`api (or EDGEPLANE_ADMIN_TOKEN)`).
 */
export function keysFromStateDir(
  apps: ReadonlyArray<(typeof APPS)[number]>,
  env: Record<string, string | undefined>,
): Map<KeyName, string[]> {
  const needed = new Map<KeyName, string[]>();
  for (const app of apps) {
    for (const [name, variable] of Object.entries(app.keys) as Array<[KeyName, string | null]>) {
      if (variable !== null && env[variable] !== undefined) continue;
      needed.set(name, [...(needed.get(name) ?? []), variable ? `${app.name} (or ${variable})` : app.name]);
    }
  }
  return needed;
}

/**
 * How `up` runs an app's Node process. Source maps: stack traces name the TypeScript lines. A small
 * young generation for the workers, which hold little and wait on Postgres, Redis and Docker (V8's
 * default semi-spaces, 16 MiB, would be most of their memory), and `--optimize-for-size` (about
 * 6–8 MiB less each when idle). The API allocates for every request: with 4 MiB semi-spaces the
 * objects of the requests in flight die young instead of being promoted, about a seventh less CPU
 * per deploy and a third less per webhook than with 1 MiB (bench/api-load), for a few MiB more when
 * idle; 16 MiB saved more CPU but cost the API 10–15 MiB idle (bench/footprint). It keeps V8's other
 * defaults: `--optimize-for-size` cost it about a sixth of its requests per second.
 */
export function nodeFlags(app: { throughput: boolean }): string[] {
  return [
    "--enable-source-maps",
    ...(app.throughput ? ["--max-semi-space-size=4"] : ["--max-semi-space-size=1", "--optimize-for-size"]),
  ];
}
