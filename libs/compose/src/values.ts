import type { z } from "zod";
import { ComposeError } from "./error.ts";

/** A YAML mapping as the parser gives it. */
export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The path one step down: `services.web` + `ports` → `services.web.ports`; + 0 → `services.web.ports[0]`. */
export function at(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** What a value is, for messages: "a list", "a number", "null". */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}

export function expectMapping(value: unknown, path: string): Mapping {
  if (!isMapping(value)) throw new ComposeError(path, `must be a mapping, not ${kindOf(value)}`);
  return value;
}

export function expectList(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ComposeError(path, `must be a list, not ${kindOf(value)}`);
  return value;
}

export function expectString(value: unknown, path: string): string {
  if (typeof value !== "string") throw new ComposeError(path, `must be a string, not ${kindOf(value)}`);
  return value;
}

/** A scalar read as a string the way docker-compose does: numbers and booleans are written out. */
export function scalarString(value: unknown, path: string): string {
  if (typeof value === "string") return value;
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean") {
    return String(value);
  }
  throw new ComposeError(path, `must be a string, a number or a boolean, not ${kindOf(value)}`);
}

/**
 * Parses `value` with a zod schema that describes its shape, and turns the first issue into a
 * ComposeError at the offending key. A key the schema does not know is "not supported", with the
 * reason `unknownKey` when one is given.
 */
export function check<S extends z.ZodType>(
  schema: S,
  value: unknown,
  path: string,
  { unknownKey = "" }: { unknownKey?: string } = {},
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ComposeError(path, "is not valid");
  const where = issue.path.reduce<string>(
    (base, key) => at(base, typeof key === "number" ? key : String(key)),
    path,
  );
  if (issue.code === "unrecognized_keys") {
    throw new ComposeError(
      at(where, issue.keys[0] ?? ""),
      unknownKey ? `not supported: ${unknownKey}` : "not supported",
    );
  }
  throw new ComposeError(where, issue.message);
}
