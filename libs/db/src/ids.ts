import { randomBytes } from "node:crypto";

const PREFIXES = {
  project: "prj",
  environment: "env",
  deployment: "dep",
  token: "tok",
  certificate: "crt",
} as const;
export type IdKind = keyof typeof PREFIXES;

/** Typed, prefixed ids (`dep_…`): readable in logs and URLs, safe in BullMQ job ids (no ':'). */
export function newId(kind: IdKind): string {
  return `${PREFIXES[kind]}_${randomBytes(10).toString("hex")}`;
}
