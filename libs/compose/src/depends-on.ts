import { z } from "zod";
import { ComposeError } from "./error.ts";
import type { Dependency, DependencyCondition } from "./types.ts";
import { at, check, expectString, isMapping } from "./values.ts";

const CONDITIONS = ["service_started", "service_healthy", "service_completed_successfully"] as const;

const dependencyOptions = z.strictObject(
  {
    condition: z
      .enum(CONDITIONS, { error: `must be one of ${CONDITIONS.join(", ")}` })
      .default("service_started"),
    /** Accepted and ignored: edgeplane restarts what needs restarting. */
    restart: z.boolean({ error: "must be true or false" }).optional(),
    required: z.literal(true, { error: "must be true: every dependency is required" }).optional(),
  },
  { error: "must be a mapping with a condition" },
);

/**
 * `depends_on` as a list of service names (each `service_started`) or as a mapping of service name
 * to `{ condition }`. Whether the services exist and form no cycle is checked once all are read.
 */
export function dependsOn(value: unknown, path: string): Dependency[] {
  if (value === undefined) return [];
  const dependencies: Dependency[] = [];
  const add = (service: string, condition: DependencyCondition, where: string) => {
    if (dependencies.some((dependency) => dependency.service === service)) {
      throw new ComposeError(where, `names ${service} twice`);
    }
    dependencies.push({ service, condition });
  };
  if (Array.isArray(value)) {
    value.forEach((entry, index) => {
      const where = at(path, index);
      add(expectString(entry, where), "service_started", where);
    });
  } else if (isMapping(value)) {
    for (const [service, options] of Object.entries(value)) {
      const where = at(path, service);
      add(service, check(dependencyOptions, options ?? {}, where).condition, where);
    }
  } else {
    throw new ComposeError(
      path,
      "must be a list of service names or a mapping of service name to { condition }",
    );
  }
  return dependencies;
}
