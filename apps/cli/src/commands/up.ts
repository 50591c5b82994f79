import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  apiEnv,
  ingressEnv,
  janitorEnv,
  loadConfig,
  notifyEnv,
  reconcileEnv,
  stageEnv,
} from "@edgeplane/config";
import { createDb, migrateDatabase } from "@edgeplane/db";
import { gatewayFromEnv } from "@edgeplane/gateway";
import { createLogger } from "@edgeplane/log";
import { syncGateway } from "@edgeplane/pipeline";
import { formatLogLine, Supervisor } from "@edgeplane/supervisor";
import { z } from "zod";
import { edgeDefaults } from "../edge-defaults.ts";
import { type LocalState, loadLocalState, type SigningKey } from "../state.ts";

/** The repository: the nearest directory above this file holding `apps/` and the lockfile. */
function repositoryRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package-lock.json")) && existsSync(join(dir, "apps"))) return dir;
    if (dirname(dir) === dir) throw new Error("cannot find the edgeplane repository above this file");
  }
}
const ROOT = repositoryRoot();

/** Each process `edgeplane up` starts, run as compiled JavaScript (`npm run build:apps`, scripts/build.mjs). */
export const APPS = [
  { name: "api", entry: "apps/api/dist/main.js", schema: apiEnv },
  { name: "worker-stage", entry: "apps/worker-stage/dist/main.js", schema: stageEnv },
  { name: "worker-reconcile", entry: "apps/worker-reconcile/dist/main.js", schema: reconcileEnv },
  { name: "worker-ingress", entry: "apps/worker-ingress/dist/main.js", schema: ingressEnv },
  { name: "janitor", entry: "apps/janitor/dist/main.js", schema: janitorEnv },
  { name: "worker-github", entry: "apps/worker-github/dist/main.js", schema: notifyEnv },
] as const;

const upEnv = z.object({
  EDGEPLANE_STATE_DIR: z.string().default(".edgeplane"),
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/edgeplane"),
  EDGEPLANE_LOG_FORMAT: z.enum(["pretty", "json"]).default("pretty"),
  EDGEPLANE_API_HOST: z.string().default("127.0.0.1"),
  EDGEPLANE_API_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
});

type AppName = (typeof APPS)[number]["name"];

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
 */
export function childEnvironment(
  app: (typeof APPS)[number],
  shared: Record<string, string | undefined>,
  state: Pick<LocalState, "key" | "apiKey" | "caKey" | "credentialsKey" | "adminToken">,
): Record<string, string | undefined> {
  const declared = new Set(Object.keys(app.schema.shape));
  const env = Object.fromEntries(
    Object.entries(shared).filter(([name]) => !SECRET.test(name) || declared.has(name)),
  );
  const api = app.name === "api";
  env.EDGEPLANE_SIGNING_KEY = (api ? state.apiKey : state.key).privateKey;
  env.EDGEPLANE_PUBLIC_KEYS =
    api || TRUSTS_API.has(app.name)
      ? `${publicKey(state.key)},${publicKey(state.apiKey)}`
      : publicKey(state.key);
  delete env.EDGEPLANE_ADMIN_TOKEN;
  delete env.EDGEPLANE_CA_KEY;
  delete env.EDGEPLANE_CREDENTIALS_KEY;
  delete env.EDGEPLANE_CREDENTIALS_PUBLIC_KEY;
  if (api) {
    env.EDGEPLANE_ADMIN_TOKEN = shared.EDGEPLANE_ADMIN_TOKEN ?? state.adminToken;
    env.EDGEPLANE_CREDENTIALS_PUBLIC_KEY =
      shared.EDGEPLANE_CREDENTIALS_PUBLIC_KEY ?? state.credentialsKey.publicKey;
  }
  if (app.name === "worker-stage")
    env.EDGEPLANE_CREDENTIALS_KEY = shared.EDGEPLANE_CREDENTIALS_KEY ?? state.credentialsKey.privateKey;
  if (app.name === "worker-ingress") env.EDGEPLANE_CA_KEY = shared.EDGEPLANE_CA_KEY ?? state.caKey;
  return env;
}

/** The API as the gateway reaches it for status pages: a wildcard listen address is reached on loopback. */
function controlUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * `edgeplane up`: migrate, start the gateway and every app as its own process, and stop them
 * all gracefully on SIGINT/SIGTERM. A failed migration stops everything before it starts.
 */
export async function up(): Promise<void> {
  const json = process.env.EDGEPLANE_LOG_FORMAT === "json";
  const log = createLogger("edgeplane", process.env.LOG_LEVEL ?? "info", {
    write: (line) => process.stdout.write(`${formatLogLine("edgeplane", line.trimEnd(), json)}\n`),
  });
  const env = loadConfig(upEnv);
  const stateDir = resolve(env.EDGEPLANE_STATE_DIR);
  const state = await loadLocalState(stateDir);
  const shared: Record<string, string | undefined> = {
    ...process.env,
    ...edgeDefaults(process.env),
    DATABASE_URL: env.DATABASE_URL,
    EDGEPLANE_GATEWAY_DIR: resolve(stateDir, "gateway"),
    EDGEPLANE_CONTROL_URL:
      process.env.EDGEPLANE_CONTROL_URL ?? controlUrl(env.EDGEPLANE_API_HOST, env.EDGEPLANE_API_PORT),
  };
  const missing = APPS.filter((app) => !existsSync(resolve(ROOT, app.entry)));
  if (missing.length > 0)
    throw new Error(`${missing.map((a) => a.entry).join(", ")} missing: run npm run build:apps first`);
  const children = APPS.map((app) => ({ app, env: childEnvironment(app, shared, state) }));
  // every child's configuration is checked before anything starts
  for (const child of children) loadConfig(child.app.schema, child.env);
  const ingress = children.find(({ app }) => app.name === "worker-ingress");
  if (!ingress) throw new Error("worker-ingress is not among the apps");
  const gatewayEnv = loadConfig(ingressEnv, ingress.env);

  await migrateDatabase(env.DATABASE_URL);
  log.info("migrations applied");

  // nginx starts with the same config worker-ingress renders: routes, status pages, certificates
  const gateway = gatewayFromEnv(gatewayEnv);
  await gateway.prepare();
  // the render lock holds one connection while the render reads on another
  const { db, sql, close } = createDb(env.DATABASE_URL, { max: 3 });
  const { routes } = await syncGateway({ db, sql, gateway });
  await close();
  const nginx = await gateway.start();
  log.info(
    { address: `http://${gatewayEnv.EDGEPLANE_GATEWAY_HOST}:${gatewayEnv.EDGEPLANE_GATEWAY_PORT}`, routes },
    "gateway listening",
  );

  const supervisor = new Supervisor({
    write: (line) => process.stdout.write(`${line}\n`),
    jsonLogs: env.EDGEPLANE_LOG_FORMAT === "json",
  });
  for (const child of children) {
    supervisor.start({
      name: child.app.name,
      command: process.execPath,
      // source maps: stack traces name the TypeScript lines; a small young generation: these
      // processes hold little, and V8's default semi-spaces (16 MiB) would be most of their memory
      args: ["--enable-source-maps", "--max-semi-space-size=1", resolve(ROOT, child.app.entry)],
      env: child.env,
    });
  }
  if (!process.env.EDGEPLANE_ADMIN_TOKEN) {
    log.info(
      { file: state.adminTokenPath },
      "admin token written to file (EDGEPLANE_ADMIN_TOKEN overrides it)",
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping all processes");
    await supervisor.stop(25_000);
    nginx.kill("SIGQUIT"); // graceful: finish in-flight requests
    await new Promise((r) => (nginx.exitCode === null ? nginx.once("exit", r) : r(null)));
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  nginx.on("exit", (code, signal) => {
    if (!stopping) {
      log.error({ code, signal }, "gateway exited; stopping");
      void stop("gateway-exit");
    }
  });
}
