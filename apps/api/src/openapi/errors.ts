import { ERROR_CODES, type ErrorCode } from "@edgeplane/domain";
import { z } from "@hono/zod-openapi";
import { STATUS_OF } from "../errors.ts";

/** The one error body of the API, whatever the route and whatever went wrong. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      requestId: z.string().meta({ description: "Also sent as the X-Request-Id header" }),
    }),
  })
  .meta({ id: "Error" });

const MEANING: Record<ErrorCode, string> = {
  bad_request: "The request is malformed or fails validation; nothing was changed",
  unauthorized: "No bearer token, or one that is unknown or revoked",
  forbidden: "The token lacks the scope, or has no access to the project",
  not_found: "A named resource does not exist",
  conflict: "The request conflicts with what exists",
  quota_exceeded: "The project's maxEnvironments would be exceeded; nothing was changed",
  payload_too_large: "The body is larger than the configured limit",
  rate_limited: "Too many requests in the current window; see Retry-After",
  unavailable: "Postgres or Redis is unreachable; nothing was changed, retry shortly",
  internal: "An unexpected error",
};

/**
 * The `responses` entries of the errors a route may answer with, each the one error body. Every
 * route may answer `internal` and `unavailable`; list the others it can give.
 */
export function errorResponses(...codes: ErrorCode[]) {
  const responses: Record<
    number,
    { description: string; content: { "application/json": { schema: typeof errorSchema } } }
  > = {};
  for (const code of [...codes, "unavailable", "internal"] as const) {
    const status = STATUS_OF[code];
    const previous = responses[status]?.description;
    responses[status] = {
      description: previous ? `${previous}. ${MEANING[code]}` : MEANING[code],
      content: { "application/json": { schema: errorSchema } },
    };
  }
  return responses;
}
