/**
 * The driver's own error. drizzle wraps every failed query in an error whose message repeats the
 * query and its parameters (project env values, token hashes), so only the cause is inspected,
 * logged or shown.
 */
export function driverError(error: unknown): unknown {
  if (error instanceof Error && "query" in error && "params" in error && error.cause) return error.cause;
  return error;
}

/** What a human may be told of a failure: the driver's message, never a query with its parameters. */
export function errorMessage(error: unknown): string {
  const cause = driverError(error);
  return cause instanceof Error ? cause.message : String(cause);
}

function sqlState(error: unknown): string | undefined {
  const code = (driverError(error) as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A unique constraint refused the write (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === "23505";
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

/** A connection to Postgres was lost, or may have been: unavailable (see isUnavailable), as the driver's own. */
export function connectionLost(): Error {
  return Object.assign(new Error("lost the connection to Postgres"), { code: "CONNECTION_CLOSED" });
}

/**
 * Postgres or Redis unreachable: the caller should retry. A transaction that did not commit stored
 * nothing; intent is only ever written in one transaction.
 */
export function isUnavailable(error: unknown): boolean {
  if (UNAVAILABLE_CODES.has(sqlState(error) ?? "")) return true;
  // ioredis, for a request-path connection that fails fast (no offline queue) while Redis is away
  const { name = "", message = "" } = (driverError(error) ?? {}) as { name?: string; message?: string };
  return (
    name === "MaxRetriesPerRequestError" || /^Stream isn't writeable|^Connection is closed/.test(message)
  );
}
