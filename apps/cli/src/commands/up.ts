import { existsSync } from "node:fs";
import { get as httpGet } from "node:http";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ConfigError, ingressEnv, loadConfig } from "@edgeplane/config";
import { createDb } from "@edgeplane/db";
import type { GatewayEnvFields } from "@edgeplane/gateway";
import { createLogger } from "@edgeplane/log";
import { formatLogLine, Supervisor } from "@edgeplane/supervisor";
import { z } from "zod";
import { APPS, type AppName, keysFromStateDir, nodeFlags } from "../apps.ts";
import { edgeDefaults } from "../edge-defaults.ts";
import { migrateExclusively } from "../migrate.ts";
import { ensureKeys, KEY_FILES, type KeyName, type Keys, readKeys, type SigningKey } from "../state.ts";

/** The repository: the nearest directory above this file holding `apps/` and the lockfile. */
function repositoryRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package-lock.json")) && existsSync(join(dir, "apps"))) return dir;
    if (dirname(dir) === dir) throw new Error("cannot find the edgeplane repository above this file");
  }
}
const ROOT = repositoryRoot();

/** What `up` itself reads. */
export const upEnv = z.object({
  EDGEPLANE_STATE_DIR: z.string().default(".edgeplane"),
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/edgeplane"),
  EDGEPLANE_LOG_FORMAT: z.enum(["pretty", "json"]).default("pretty"),
  EDGEPLANE_API_HOST: z.string().default("127.0.0.1"),
  EDGEPLANE_API_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
});

/** Queues the API enqueues to: only their workers trust the API's signing key. */
const TRUSTS_API: ReadonlySet<AppName> = new Set([
  "worker-stage",
  "janitor",
  "worker-github",
  // a request for a sleeping environment wakes it: the API hands the wake to reconcile
  "worker-reconcile",
]);

/** Names of variables that hold secrets: a child gets one only if its own configuration declares it. */
const SECRET = /(?:TOKEN|SECRET|PASSWORD|_KEY)$/;

const publicKey = (key: SigningKey) => `${key.kid}=${key.publicKey}`;

/**
 * The environment of one child: what every child shares, minus every secret its schema does not
 * declare, plus its own secrets. The API signs with a key pair of its own, trusted only by the
 * workers of the queues it enqueues to (stage, teardown, notify); the workers sign with theirs. The
 * admin token goes to the API only, the CA key (which opens the local CA's private key) to
 * worker-ingress only, the key that opens projects' registry credentials to worker-stage only (the
 * API gets its public half), registry and GitHub credentials only to the workers that declare them.
 * Takes from `keys` only what the app declares in APPS (and no variable gives).
 */
export function childEnvironment(
  app: (typeof APPS)[number],
  shared: Record<string, string | undefined>,
  keys: Keys,
): Record<string, string | undefined> {
  const declared = new Set(Object.keys(app.schema.shape));
  const env = Object.fromEntries(
    Object.entries(shared).filter(([name]) => !SECRET.test(name) || declared.has(name)),
  );
  const need = <K extends KeyName>(name: K): NonNullable<Keys[K]> => {
    const value = keys[name];
    if (value === undefined || !(name in app.keys)) {
      throw new Error(`${app.name} needs ${KEY_FILES[name].file}, which it does not declare or was not read`);
    }
    return value as NonNullable<Keys[K]>;
  };
  const api = app.name === "api";
  env.EDGEPLANE_SIGNING_KEY = (api ? need("apiKey") : need("key")).privateKey;
  env.EDGEPLANE_PUBLIC_KEYS =
    api || TRUSTS_API.has(app.name)
      ? `${publicKey(need("key"))},${publicKey(need("apiKey"))}`
      : publicKey(need("key"));
  delete env.EDGEPLANE_ADMIN_TOKEN;
  delete env.EDGEPLANE_CA_KEY;
  delete env.EDGEPLANE_CREDENTIALS_KEY;
  delete env.EDGEPLANE_CREDENTIALS_PUBLIC_KEY;
  if (api) {
    env.EDGEPLANE_ADMIN_TOKEN = shared.EDGEPLANE_ADMIN_TOKEN ?? need("adminToken");
    env.EDGEPLANE_CREDENTIALS_PUBLIC_KEY =
      shared.EDGEPLANE_CREDENTIALS_PUBLIC_KEY ?? need("credentialsKey").publicKey;
  }
  if (app.name === "worker-stage")
    env.EDGEPLANE_CREDENTIALS_KEY = shared.EDGEPLANE_CREDENTIALS_KEY ?? need("credentialsKey").privateKey;
  if (app.name === "worker-ingress") env.EDGEPLANE_CA_KEY = shared.EDGEPLANE_CA_KEY ?? need("caKey");
  return env;
}

/**
 * The keys `apps` need. All of them (one machine): made in the state dir the first time. A subset
 * (`--only`: one machine of several): read, never made, since a key made here would differ from
 * the one the other machines hold (the API here would sign with a key no worker there trusts); a
 * missing one stops `up` before anything starts, saying which file and where it comes from.
 */
export async function keysFor(
  apps: ReadonlyArray<(typeof APPS)[number]>,
  options: { stateDir: string; only: boolean; env: Record<string, string | undefined> },
): Promise<Keys> {
  if (!options.only) return (await ensureKeys(options.stateDir)).keys;
  const needed = keysFromStateDir(apps, options.env);
  const { keys, missing } = await readKeys(options.stateDir, needed.keys());
  if (missing.length === 0) return keys;
  const width = Math.max(...missing.map((name) => KEY_FILES[name].file.length));
  const lines = missing.map(
    (name) => `  ${KEY_FILES[name].file.padEnd(width)}  for ${(needed.get(name) ?? []).join(", ")}`,
  );
  throw new ConfigError(
    `up --only makes no keys: every machine of a cluster must hold the same ones. Missing from ${options.stateDir}:\n` +
      `${lines.join("\n")}\n` +
      "Make the cluster's keys once with `edgeplane keys`, keep them in your secret store, and copy the files " +
      "into EDGEPLANE_STATE_DIR on each machine (README.md: Production topology).",
  );
}

/**
 * nginx, started with the same config worker-ingress renders: routes, status pages, certificates.
 * Its modules (the pipeline's, with the queue client) load here, while the API boots, not before.
 */
async function startGateway(gatewayEnv: GatewayEnvFields, databaseUrl: string) {
  const [{ gatewayFromEnv }, { syncGateway }] = await Promise.all([
    import("@edgeplane/gateway"),
    import("@edgeplane/pipeline"),
  ]);
  const gateway = gatewayFromEnv(gatewayEnv);
  await gateway.prepare();
  // the render lock holds one connection while the render reads on another
  const { db, sql, close } = createDb(databaseUrl, { max: 3 });
  const { routes } = await syncGateway({ db, sql, gateway });
  await close();
  return { routes, process: await gateway.start() };
}

/** How long the workers wait for the API to answer before they start anyway. */
const API_FIRST_MS = 5_000;

/**
 * Whether a GET of `url` answers 200 within a second. node:http, not fetch (nor the runtime's
 * waitHealthy, which uses it): `up` stays running, and fetch's client would hold ~10 MiB in it.
 */
function answers200(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpGet(url, { timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

/** Resolves once `url` answers 200, or after `timeoutMs` (whatever it answered meanwhile). */
async function answers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers200(url)) return;
    await sleep(20);
  }
}

/** The API as the gateway reaches it for status pages: a wildcard listen address is reached on loopback. */
function controlUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * What every child of `up` shares, before each is given its own secrets: `env` with the local edge
 * registry by default, the gateway's files in the state dir (unless EDGEPLANE_GATEWAY_DIR names
 * another place), and the gateway reaching the API on this machine (unless EDGEPLANE_CONTROL_URL
 * names another: required when worker-ingress runs without the API).
 */
export function sharedEnvironment(
  env: Record<string, string | undefined>,
  apps: readonly AppName[],
): Record<string, string | undefined> {
  const settings = loadConfig(upEnv, env);
  if (apps.includes("worker-ingress") && !apps.includes("api") && !env.EDGEPLANE_CONTROL_URL) {
    throw new ConfigError(
      "invalid configuration:\n  EDGEPLANE_CONTROL_URL: required when worker-ingress runs without the api: " +
        "the address (http://<ip>:<port>) at which the gateway reaches an API for status pages",
    );
  }
  return {
    ...env,
    ...edgeDefaults(env),
    DATABASE_URL: settings.DATABASE_URL,
    EDGEPLANE_GATEWAY_DIR: resolve(
      env.EDGEPLANE_GATEWAY_DIR ?? join(settings.EDGEPLANE_STATE_DIR, "gateway"),
    ),
    EDGEPLANE_CONTROL_URL:
      env.EDGEPLANE_CONTROL_URL ?? controlUrl(settings.EDGEPLANE_API_HOST, settings.EDGEPLANE_API_PORT),
  };
}

/**
 * `edgeplane up`: migrate, start the gateway and every app (or the ones `--only` names) as its own
 * process, and stop them all gracefully on SIGINT/SIGTERM. The gateway (nginx) goes with
 * worker-ingress, which renders its config and reloads it. A failed migration stops everything
 * before it starts.
 */
export async function up(options: { only?: AppName[] } = {}): Promise<void> {
  const json = process.env.EDGEPLANE_LOG_FORMAT === "json";
  const log = createLogger("edgeplane", process.env.LOG_LEVEL ?? "info", {
    write: (line) => process.stdout.write(`${formatLogLine("edgeplane", line.trimEnd(), json)}\n`),
  });
  const env = loadConfig(upEnv);
  const only = options.only !== undefined;
  const apps = APPS.filter((app) => options.only?.includes(app.name) ?? true);
  const runs = (name: AppName) => apps.some((app) => app.name === name);
  const shared = sharedEnvironment(
    process.env,
    apps.map((app) => app.name),
  );
  const stateDir = resolve(env.EDGEPLANE_STATE_DIR);
  const missing = apps.filter((app) => !existsSync(resolve(ROOT, app.entry)));
  if (missing.length > 0)
    throw new Error(`${missing.map((a) => a.entry).join(", ")} missing: run npm run build:apps first`);
  const keys = await keysFor(apps, { stateDir, only, env: process.env });
  const children = apps.map((app) => ({ app, env: childEnvironment(app, shared, keys) }));
  // every child's configuration is checked before anything starts
  for (const child of children) loadConfig(child.app.schema, child.env);
  const ingress = children.find(({ app }) => app.name === "worker-ingress");
  const gatewayEnv = ingress ? loadConfig(ingressEnv, ingress.env) : null;

  await migrateExclusively(env.DATABASE_URL);
  log.info("migrations applied");

  const supervisor = new Supervisor({
    write: (line) => process.stdout.write(`${line}\n`),
    jsonLogs: env.EDGEPLANE_LOG_FORMAT === "json",
  });
  const spawnApp = (child: (typeof children)[number]) =>
    supervisor.start({
      name: child.app.name,
      command: process.execPath,
      args: [...nodeFlags(child.app), resolve(ROOT, child.app.entry)],
      env: child.env,
    });
  // The API first, on cores of its own: the workers' boot would otherwise share them with it, and a
  // healthy API is what `up` is waited for. The gateway starts meanwhile; the workers once the API
  // answers (or after API_FIRST_MS, should it not).
  const api = children.find(({ app }) => app.name === "api");
  if (api) spawnApp(api);
  const apiAnswers = api
    ? answers(`${controlUrl(env.EDGEPLANE_API_HOST, env.EDGEPLANE_API_PORT)}/healthz`, API_FIRST_MS)
    : Promise.resolve();

  let gatewayStarted: ReturnType<typeof startGateway> | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping all processes");
    await supervisor.stop(25_000);
    // a gateway still starting is stopped too, once it has
    const nginx = (await gatewayStarted?.catch(() => null))?.process;
    if (nginx) {
      nginx.kill("SIGQUIT"); // graceful: finish in-flight requests
      await new Promise((r) => (nginx.exitCode === null ? nginx.once("exit", r) : r(null)));
    }
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  if (gatewayEnv) {
    gatewayStarted = startGateway(gatewayEnv, env.DATABASE_URL);
    const { routes, process: nginx } = await gatewayStarted;
    log.info(
      { address: `http://${gatewayEnv.EDGEPLANE_GATEWAY_HOST}:${gatewayEnv.EDGEPLANE_GATEWAY_PORT}`, routes },
      "gateway listening",
    );
    nginx.on("exit", (code, signal) => {
      if (!stopping) {
        log.error({ code, signal }, "gateway exited; stopping");
        void stop("gateway-exit");
      }
    });
  }

  await apiAnswers;
  if (stopping) return;
  for (const child of children) if (child !== api) spawnApp(child);
  if (only) log.info({ apps: apps.map((app) => app.name) }, "started only these apps");
  if (runs("api") && !process.env.EDGEPLANE_ADMIN_TOKEN) {
    log.info(
      { file: join(stateDir, KEY_FILES.adminToken.file) },
      "admin token in file (EDGEPLANE_ADMIN_TOKEN overrides it)",
    );
  }
}
