import { DomainError, type ErrorCode } from "@edgeplane/domain";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";

export const STATUS_OF: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export function fromZod(error: ZodError): DomainError {
  const details = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
  return new DomainError("bad_request", details);
}

/**
 * The driver's own error. drizzle wraps every failed query in an error whose message repeats the
 * query and its parameters (project env values, token hashes), so only the cause is inspected or logged.
 */
export function driverError(error: unknown): unknown {
  if (error instanceof Error && "query" in error && "params" in error && error.cause) return error.cause;
  return error;
}

const UNAVAILABLE_CODES = new Set([
  // the network: refused, reset, timed out, unresolvable
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  // postgres.js: a connection that could not be made or was lost mid-query
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  // Postgres: shutting down or restarting, too many connections, connection failures
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "08000",
  "08003",
  "08006",
  "08001",
  "08004",
]);

/**
 * Postgres or Redis unreachable: tell the caller to retry. A transaction that did not commit
 * stored nothing; intent is only ever written in one transaction.
 */
export function isUnavailable(error: unknown): boolean {
  const code = (driverError(error) as { code?: string }).code ?? "";
  if (UNAVAILABLE_CODES.has(code)) return true;
  // ioredis, for a request-path connection that fails fast (no offline queue) while Redis is away
  const { name = "", message = "" } = driverError(error) as { name?: string; message?: string };
  return (
    name === "MaxRetriesPerRequestError" || /^Stream isn't writeable|^Connection is closed/.test(message)
  );
}
