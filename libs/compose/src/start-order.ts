import { ComposeError } from "./error.ts";
import type { ComposeApp, ServiceSpec } from "./types.ts";

/**
 * A dependency cycle, as the services along it from one back to itself (`["a", "b", "a"]`), or null.
 * Services are searched in file order, so the same file always reports the same cycle.
 */
export function findCycle(services: readonly ServiceSpec[]): string[] | null {
  const byName = new Map(services.map((service) => [service.name, service]));
  const done = new Set<string>();
  const stack: string[] = [];

  function visit(name: string): string[] | null {
    const open = stack.indexOf(name);
    if (open >= 0) return [...stack.slice(open), name];
    if (done.has(name)) return null;
    stack.push(name);
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      const cycle = visit(dependency.service);
      if (cycle) return cycle;
    }
    stack.pop();
    done.add(name);
    return null;
  }

  for (const service of services) {
    const cycle = visit(service.name);
    if (cycle) return cycle;
  }
  return null;
}

export function cycleError(cycle: readonly string[]): ComposeError {
  return new ComposeError(`services.${cycle[0]}.depends_on`, `dependency cycle: ${cycle.join(" -> ")}`);
}

/**
 * The order to start services in, as levels: the first holds the services that depend on nothing,
 * and each later one only services whose dependencies are all in earlier levels. Within a level,
 * file order. Every service of a level can start at once.
 */
export function startOrder(app: ComposeApp): string[][] {
  const placed = new Set<string>();
  const levels: string[][] = [];
  let remaining = app.services;
  while (remaining.length > 0) {
    const level = remaining.filter((service) =>
      service.dependsOn.every(({ service: name }) => placed.has(name)),
    );
    if (level.length === 0) {
      const cycle = findCycle(app.services);
      if (cycle) throw cycleError(cycle);
      const [stuck] = remaining;
      throw new ComposeError(
        `services.${stuck?.name}.depends_on`,
        "depends on a service that is not in the app",
      );
    }
    for (const service of level) placed.add(service.name);
    levels.push(level.map((service) => service.name));
    remaining = remaining.filter((service) => !placed.has(service.name));
  }
  return levels;
}
