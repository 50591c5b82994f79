import { randomBytes } from "node:crypto";
import { z } from "zod";

/** The prefix of each kind of id (`dep_…`): readable in logs and URLs, safe in BullMQ job ids (no ':'). */
export const ID_PREFIXES = {
  project: "prj",
  environment: "env",
  deployment: "dep",
  token: "tok",
  certificate: "crt",
} as const;
export type IdKind = keyof typeof ID_PREFIXES;

const PATTERNS = Object.fromEntries(
  Object.entries(ID_PREFIXES).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}_[0-9a-f]+$`)]),
) as Record<IdKind, RegExp>;

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${randomBytes(10).toString("hex")}`;
}

export function isId(kind: IdKind, value: unknown): value is string {
  return typeof value === "string" && PATTERNS[kind].test(value);
}

/** The schema of one kind of id, for params, job envelopes and stored references. */
export function idSchema(kind: IdKind) {
  return z.string().regex(PATTERNS[kind], `not a ${kind} id`);
}
