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

/** Postgres or Redis unreachable: tell the caller to retry; nothing was half-stored. */
export function isUnavailable(error: unknown): boolean {
  const code = (driverError(error) as { code?: string }).code ?? "";
  return ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "CONNECT_TIMEOUT", "57P01", "57P03", "08006", "08001"].includes(
    code,
  );
}
