import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@edgeplane/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { APPS, type AppName, keysFromStateDir, parseApps } from "../src/apps.ts";
import { childEnvironment, sharedEnvironment, upEnv } from "../src/commands/up.ts";
import { ensureKeys, KEY_FILES, type Keys } from "../src/state.ts";

// The files that run edgeplane on several machines (README.md's production topology, the Swarm
// stack, the systemd unit and its settings) name only variables edgeplane reads, start only apps
// that exist, give each app the keys it needs, and make a valid configuration for every app.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFile(join(ROOT, path), "utf8");

/** Every variable some app, or `up` itself, reads. */
const KNOWN = new Set([...APPS.flatMap((app) => Object.keys(app.schema.shape)), ...Object.keys(upEnv.shape)]);
const OURS = /\b(?:EDGEPLANE_[A-Z0-9_]+|DOCKER_(?:HOST|TLS_VERIFY|CERT_PATH|SOCKET))\b/g;

/** What the operator's shell gives `docker stack deploy` for the stack's `${…}`. */
const DEPLOY_SHELL: Record<string, string> = {
  DATABASE_URL: "postgres://edgeplane:secret@db.internal:5432/edgeplane",
  REDIS_URL: "rediss://:secret@redis.internal:6380",
  EDGEPLANE_EDGE_REGISTRY: "registry.internal:5000",
  EDGEPLANE_GITHUB_TOKEN: "ghs_example",
};

/** `${NAME:?message}` and `${NAME:-default}` in every string of `value`, as docker stack deploy interpolates. */
function interpolate(value: unknown, values: Record<string, string>): unknown {
  if (typeof value === "string") {
    return value.replace(
      /\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}/g,
      (_, name: string, op?: string, rest = "") => {
        const given = values[name];
        if (given !== undefined) return given;
        if (op === "-") return rest;
        throw new Error(`the stack needs ${name}: ${rest}`);
      },
    );
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, values));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, values)]));
  return value;
}

let keyDir = "";
let keys: Required<Keys>;
beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), "edgeplane-keys-"));
  keys = (await ensureKeys(keyDir)).keys;
});
afterAll(async () => {
  await rm(keyDir, { recursive: true, force: true });
});

/** Each app's configuration, as `up --only` would make it from `env`, is valid. */
function expectValidConfigurations(apps: AppName[], env: Record<string, string | undefined>) {
  const shared = sharedEnvironment(env, apps);
  for (const app of APPS.filter((a) => apps.includes(a.name))) {
    expect(() => loadConfig(app.schema, childEnvironment(app, shared, keys)), app.name).not.toThrow();
  }
}

interface StackService {
  entrypoint?: string[];
  command: string[];
  environment: Record<string, string>;
  secrets?: Array<{ source: string; target: string }>;
  deploy?: { replicas?: number };
}

/** The apps a service's `up --only <apps>` names. */
const onlyOf = (service: StackService) => service.command[service.command.indexOf("--only") + 1] ?? "";

describe("infra/stack.yml", () => {
  let services: Record<string, StackService> = {};
  beforeAll(async () => {
    const stack = interpolate(parse(await read("infra/stack.yml"), { merge: true }), DEPLOY_SHELL);
    services = (stack as { services: Record<string, StackService> }).services;
  });

  it("runs each app with `edgeplane up --only`, worker-ingress exactly once", () => {
    const apps = Object.values(services).map((service) => {
      const [node, ...rest] = [...(service.entrypoint ?? []), ...service.command];
      expect(node).toBe("node");
      const script = rest.indexOf("apps/cli/dist/main.js");
      expect(rest.slice(0, script).every((flag) => flag.startsWith("--"))).toBe(true);
      expect(rest.slice(script, script + 3)).toEqual(["apps/cli/dist/main.js", "up", "--only"]);
      return parseApps(onlyOf(service));
    });
    expect(new Set(apps.flat())).toEqual(new Set(APPS.map((app) => app.name)));
    const gateways = Object.values(services).filter((s) => parseApps(onlyOf(s)).includes("worker-ingress"));
    expect(gateways.map((s) => s.deploy?.replicas)).toEqual([1]);
  });

  it("names only variables edgeplane reads", async () => {
    const named = new Set((await read("infra/stack.yml")).match(OURS));
    expect([...named].filter((name) => !KNOWN.has(name))).toEqual([]);
  });

  it("mounts the keys each service's apps need, and makes a valid configuration for each app", () => {
    for (const [name, service] of Object.entries(services)) {
      const apps = parseApps(onlyOf(service));
      const env = service.environment;
      const mounted = new Set((service.secrets ?? []).map((secret) => `/run/secrets/${secret.target}`));
      const needed = [
        ...keysFromStateDir(
          APPS.filter((app) => apps.includes(app.name)),
          env,
        ).keys(),
      ];
      for (const key of needed)
        expect(mounted, `${name}: ${KEY_FILES[key].file}`).toContain(
          join(env.EDGEPLANE_STATE_DIR ?? "", KEY_FILES[key].file),
        );
      const talksToDocker = APPS.some((app) => apps.includes(app.name) && "DOCKER_HOST" in app.schema.shape);
      if (talksToDocker && env.DOCKER_TLS_VERIFY) {
        for (const file of ["ca.pem", "cert.pem", "key.pem"])
          expect(mounted, `${name}: ${file}`).toContain(join(env.DOCKER_CERT_PATH ?? "", file));
      }
      expectValidConfigurations(apps, env);
    }
  });
});

describe("infra/systemd", () => {
  it("runs `edgeplane up --only` with the instance's apps, and names only variables edgeplane reads", async () => {
    const unit = await read("infra/systemd/edgeplane@.service");
    expect(unit).toMatch(/^ExecStart=\S*node .*apps\/cli\/dist\/main\.js up --only %I$/m);
    const example = await read("infra/systemd/edgeplane.env.example");
    const named = new Set([...(unit.match(OURS) ?? []), ...(example.match(OURS) ?? [])]);
    expect([...named].filter((name) => !KNOWN.has(name))).toEqual([]);
  });

  it("has settings that make a valid configuration on every machine of the topology", async () => {
    const lines = (await read("infra/systemd/edgeplane.env.example")).split("\n");
    const settings = (uncomment: string[]) =>
      Object.fromEntries(
        lines.flatMap((line) => {
          const match = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
          if (!match || (match[1] && !uncomment.includes(match[2] ?? ""))) return [];
          return [[match[2] as string, match[3] as string]];
        }),
      );
    const unit = { EDGEPLANE_STATE_DIR: keyDir };
    expectValidConfigurations(["api", "worker-ingress"], {
      ...unit,
      ...settings(["EDGEPLANE_GATEWAY_HOST"]),
    });
    expectValidConfigurations(["api", "worker-stage", "worker-reconcile", "worker-github", "janitor"], {
      ...unit,
      ...settings(["EDGEPLANE_GITHUB_TOKEN"]),
      EDGEPLANE_GITHUB_TOKEN: "ghs_example",
    });
  });
});

describe("README.md, Production topology", () => {
  let section = "";
  beforeAll(async () => {
    const readme = await read("README.md");
    const start = readme.indexOf("## Production topology");
    expect(start).toBeGreaterThan(0);
    section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  });

  it("starts only apps that exist", () => {
    const lists = [
      ...[...section.matchAll(/edgeplane up --only ([a-z,-]+)/g)].map((m) => m[1] ?? ""),
      ...[...section.matchAll(/systemd-escape ([a-z,-]+)\)/g)].map((m) => m[1] ?? ""),
    ];
    expect(lists.length).toBeGreaterThanOrEqual(4);
    for (const list of lists) expect(() => parseApps(list), list).not.toThrow();
  });

  it("names only variables edgeplane reads", () => {
    const named = new Set(section.match(OURS));
    expect([...named].filter((name) => !KNOWN.has(name))).toEqual([]);
  });
});
