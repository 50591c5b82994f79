import { parseImageRef } from "@edgeplane/domain";
import { dependsOn } from "./depends-on.ts";
import { ComposeError } from "./error.ts";
import { healthcheck } from "./healthcheck.ts";
import { resourceLimits } from "./limits.ts";
import { mounts } from "./mounts.ts";
import { containerPort } from "./ports.ts";
import { REFUSED_SERVICE_KEYS } from "./refused-keys.ts";
import { splitShellWords } from "./shell-words.ts";
import type { ServiceSpec } from "./types.ts";
import { at, expectMapping, expectString, isMapping, kindOf, scalarString } from "./values.ts";
import { literal, variablesAt } from "./variables.ts";

/** `restart` and `labels` are accepted and ignored: edgeplane owns restarts and labels its containers. */
const ACCEPTED_KEYS = new Set([
  "image",
  "command",
  "entrypoint",
  "environment",
  "ports",
  "expose",
  "healthcheck",
  "depends_on",
  "volumes",
  "deploy",
  "restart",
  "labels",
  "working_dir",
  "user",
]);

function refuseUnknownKeys(service: Record<string, unknown>, path: string): void {
  for (const key of Object.keys(service)) {
    if (ACCEPTED_KEYS.has(key) || key.startsWith("x-")) continue;
    const refusal = Object.hasOwn(REFUSED_SERVICE_KEYS, key) ? REFUSED_SERVICE_KEYS[key] : undefined;
    throw new ComposeError(
      at(path, key),
      refusal ? `${refusal.verdict}: ${refusal.reason}` : "not supported",
    );
  }
}

function image(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  const reference = literal(expectString(value, path), path);
  try {
    parseImageRef(reference);
  } catch (error) {
    throw new ComposeError(path, (error as Error).message);
  }
  return reference;
}

/** `command` or `entrypoint`: a list of words, or a line split into words as a shell would. */
function commandLine(value: unknown, path: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    const words = splitShellWords(literal(value, path));
    if (words === null) throw new ComposeError(path, "has an unclosed quote or ends in a backslash");
    return words;
  }
  if (!Array.isArray(value)) {
    throw new ComposeError(path, `must be a string or a list of strings, not ${kindOf(value)}`);
  }
  return value.map((word, index) => literal(scalarString(word, at(path, index)), at(path, index)));
}

const NO_HOST_ENV = "there is no host environment to take it from";

/**
 * `environment` as a mapping or a list of "KEY=value"; numbers and booleans are written out. A key
 * without a value, which docker-compose takes from the host, is refused. Values keep their variables
 * for deploy time; only their syntax is checked here.
 */
function environment(value: unknown, path: string): Record<string, string> {
  if (value === undefined) return {};
  const entries: [key: string, value: string, where: string][] = [];
  if (Array.isArray(value)) {
    value.forEach((entry, index) => {
      const where = at(path, index);
      if (typeof entry !== "string") {
        throw new ComposeError(where, `must be a string "KEY=value", not ${kindOf(entry)}`);
      }
      const equals = entry.indexOf("=");
      if (equals < 0) {
        throw new ComposeError(where, `"${entry}" has no value: ${NO_HOST_ENV}; write ${entry}=value`);
      }
      entries.push([entry.slice(0, equals), entry.slice(equals + 1), where]);
    });
  } else if (isMapping(value)) {
    for (const [key, raw] of Object.entries(value)) {
      const where = at(path, key);
      if (raw === null || raw === undefined) {
        throw new ComposeError(where, `has no value: ${NO_HOST_ENV}; give one`);
      }
      entries.push([key, scalarString(raw, where), where]);
    }
  } else {
    throw new ComposeError(path, `must be a mapping or a list of "KEY=value", not ${kindOf(value)}`);
  }
  const seen = new Set<string>();
  for (const [key, text, where] of entries) {
    if (!key || /[=\s]/.test(key) || key.includes("\u0000")) {
      throw new ComposeError(where, `"${key}" is not a variable name: no '=', spaces or empty names`);
    }
    if (seen.has(key)) throw new ComposeError(at(path, key), "is set twice");
    seen.add(key);
    variablesAt(text, at(path, key));
  }
  return Object.fromEntries(entries.map(([key, text]) => [key, text]));
}

function workingDir(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  const dir = literal(expectString(value, path), path);
  if (!dir.startsWith("/")) throw new ComposeError(path, "must be an absolute path");
  return dir;
}

function user(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  const name = literal(scalarString(value, path), path);
  if (!/^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)?$/.test(name)) {
    throw new ComposeError(path, "must be user, user:group, uid or uid:gid");
  }
  return name;
}

/**
 * One service, checked on its own against the declared top-level volumes. What depends on the other
 * services (depends_on targets, cycles, `oneShot`, variables) is checked by parseCompose.
 */
export function parseService(name: string, value: unknown, volumes: ReadonlySet<string>): ServiceSpec {
  const path = at("services", name);
  const service = expectMapping(value, path);
  refuseUnknownKeys(service, path);
  return {
    name,
    image: image(service.image, at(path, "image")),
    command: commandLine(service.command, at(path, "command")),
    entrypoint: commandLine(service.entrypoint, at(path, "entrypoint")),
    environment: environment(service.environment, at(path, "environment")),
    port: containerPort(service, path),
    healthcheck: healthcheck(service.healthcheck, at(path, "healthcheck")),
    dependsOn: dependsOn(service.depends_on, at(path, "depends_on")),
    volumes: mounts(service.volumes, volumes, at(path, "volumes")),
    limits: resourceLimits(service.deploy, at(path, "deploy")),
    oneShot: false,
    workingDir: workingDir(service.working_dir, at(path, "working_dir")),
    user: user(service.user, at(path, "user")),
  };
}
