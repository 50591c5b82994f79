import { DNS_LABEL_MESSAGE, environmentName, isDnsLabel } from "@edgeplane/domain";
import { z } from "zod";
import { ComposeError } from "./error.ts";
import { edgeplaneVariables } from "./hosts.ts";
import { readYaml } from "./read-yaml.ts";
import { REFUSED_TOP_LEVEL_KEYS } from "./refused-keys.ts";
import { parseService } from "./service.ts";
import { cycleError, findCycle } from "./start-order.ts";
import type { ComposeApp, ServiceSpec, VolumeSpec } from "./types.ts";
import { at, check, expectMapping, isMapping, kindOf } from "./values.ts";
import { variablesAt } from "./variables.ts";

export interface ParseComposeOptions {
  /** The most services one file may hold; 20 unless given. */
  maxServices?: number;
}

/** Top-level keys that carry nothing edgeplane needs: the project's name is its own, `version` is obsolete. */
const IGNORED_TOP_LEVEL_KEYS = new Set(["name", "version"]);
const VOLUME_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const VOLUME_KEYS_OWNED = "edgeplane creates, names and deletes each environment's volumes";

const edgeplaneVolumeOptions = z.strictObject(
  { seedFrom: environmentName.optional() },
  { error: "must be a mapping such as { seedFrom: staging }" },
);

function checkTopLevelKeys(root: Record<string, unknown>): void {
  for (const key of Object.keys(root)) {
    if (key === "services" || key === "volumes" || IGNORED_TOP_LEVEL_KEYS.has(key) || key.startsWith("x-")) {
      continue;
    }
    const reason = Object.hasOwn(REFUSED_TOP_LEVEL_KEYS, key) ? REFUSED_TOP_LEVEL_KEYS[key] : undefined;
    throw new ComposeError(key, reason ? `not supported: ${reason}` : "not supported");
  }
}

/** Top-level `volumes`: names mapped to nothing, or to `x-edgeplane: { seedFrom: <environment> }`. */
function parseVolumes(value: unknown): VolumeSpec[] {
  if (value === undefined || value === null) return [];
  return Object.entries(expectMapping(value, "volumes")).map(([name, options]) => {
    const path = at("volumes", name);
    if (!VOLUME_NAME.test(name)) {
      throw new ComposeError(
        path,
        "volume name must be 1 to 63 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit",
      );
    }
    if (options === null || options === undefined) return { name, seedFrom: null };
    if (!isMapping(options)) {
      throw new ComposeError(path, `must be empty or a mapping, not ${kindOf(options)}`);
    }
    let seedFrom: string | null = null;
    for (const [key, option] of Object.entries(options)) {
      if (key === "x-edgeplane") {
        seedFrom = check(edgeplaneVolumeOptions, option ?? {}, at(path, key)).seedFrom ?? null;
      } else if (!key.startsWith("x-")) {
        const known = ["driver", "driver_opts", "external", "labels", "name"].includes(key);
        throw new ComposeError(
          at(path, key),
          known ? `not supported: ${VOLUME_KEYS_OWNED}` : "not supported",
        );
      }
    }
    return { name, seedFrom };
  });
}

function checkServiceName(name: string): void {
  const path = at("services", name);
  if (!isDnsLabel(name)) throw new ComposeError(path, `service name ${DNS_LABEL_MESSAGE}`);
  if (name.includes("--")) {
    throw new ComposeError(
      path,
      'service name must not contain "--": hostnames are {service}--{environment}',
    );
  }
}

/** Each service depends on services of the file, waits for health only where there is a healthcheck, in no cycle. */
function checkDependencies(services: readonly ServiceSpec[]): void {
  const byName = new Map(services.map((service) => [service.name, service]));
  for (const service of services) {
    for (const { service: name, condition } of service.dependsOn) {
      const path = at(at(at("services", service.name), "depends_on"), name);
      const target = byName.get(name);
      if (!target) throw new ComposeError(path, `${name} is not a service of this file`);
      if (condition === "service_healthy" && !target.healthcheck) {
        throw new ComposeError(path, `waits for ${name} to be healthy, but ${name} has no healthcheck`);
      }
    }
  }
  const cycle = findCycle(services);
  if (cycle) throw cycleError(cycle);
}

/** Every variable an environment value refers to is one that edgeplane provides. */
function checkVariables(app: ComposeApp): void {
  const available = edgeplaneVariables(app);
  for (const service of app.services) {
    for (const [key, value] of Object.entries(service.environment)) {
      const path = at(at(at("services", service.name), "environment"), key);
      const unknown = variablesAt(value, path).find((name) => !available.includes(name));
      if (unknown) {
        throw new ComposeError(
          path,
          `$${unknown} is not a variable edgeplane provides; available: ${available.join(", ")}`,
        );
      }
    }
  }
}

/**
 * Reads a docker-compose file into the app edgeplane deploys, or throws a ComposeError naming the
 * first key it cannot run and why. A subset of the Compose Specification: `services` and named
 * `volumes`, with the keys a preview environment needs; host access, host paths, builds and
 * networking options are refused. Variables in environment values are kept for deploy time and must
 * be ones edgeplane provides (`edgeplaneVariables`); every other value is taken literally, `$$` as `$`.
 */
export function parseCompose(text: string, { maxServices = 20 }: ParseComposeOptions = {}): ComposeApp {
  const root = readYaml(text);
  if (root === null || root === undefined) {
    throw new ComposeError("", "the compose file is empty: it needs services");
  }
  if (!isMapping(root)) throw new ComposeError("", `the compose file must be a mapping, not ${kindOf(root)}`);
  checkTopLevelKeys(root);
  const volumes = parseVolumes(root.volumes);
  if (root.services === undefined || root.services === null) {
    throw new ComposeError("services", "is required");
  }
  const entries = Object.entries(expectMapping(root.services, "services"));
  if (entries.length === 0) throw new ComposeError("services", "must name at least one service");
  if (entries.length > maxServices) {
    throw new ComposeError("services", `${entries.length} services, more than the ${maxServices} allowed`);
  }
  const declared = new Set(volumes.map((volume) => volume.name));
  const services = entries.map(([name, value]) => {
    checkServiceName(name);
    return parseService(name, value, declared);
  });
  checkDependencies(services);
  const oneShot = new Set(
    services.flatMap((service) =>
      service.dependsOn
        .filter((dependency) => dependency.condition === "service_completed_successfully")
        .map((dependency) => dependency.service),
    ),
  );
  const app: ComposeApp = {
    services: services.map((service) => ({ ...service, oneShot: oneShot.has(service.name) })),
    volumes,
    primaryService: services.find((service) => service.port !== null)?.name ?? null,
  };
  checkVariables(app);
  return app;
}
