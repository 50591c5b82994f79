import { DomainError } from "@edgeplane/domain";
import type { Hook } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.ts";
import { fromZod } from "./errors.ts";

/**
 * Reads a JSON body before the route's schema sees it: anything but `application/json`, or bytes
 * that are not JSON, is a 400 that changes nothing. The parsed body is cached on the request, where
 * the route's validator reads it. A body over the limit fails here too and is answered 413.
 */
export const jsonBody = createMiddleware<AppEnv>(async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new DomainError("bad_request", "content-type must be application/json");
  }
  try {
    await c.req.json();
  } catch {
    throw new DomainError("bad_request", "body is not valid JSON");
  }
  await next();
});

/** A route's JSON request body, validated by `schema` once `jsonBody` has read it. */
export function jsonRequestBody<S>(schema: S) {
  return { required: true, content: { "application/json": { schema } } } as const;
}

/**
 * Every route's validation failure (OpenAPIHono's `defaultHook`): a 400 `bad_request`. A body names
 * up to five issues with their paths; a path or query parameter names its first issue.
 */
export const rejectInvalid: Hook<unknown, AppEnv, string, void> = (result) => {
  if (result.success) return;
  if (result.target === "json") throw fromZod(result.error);
  const issue = result.error.issues[0];
  const name = issue?.path.join(".") || result.target;
  throw new DomainError("bad_request", `${name}: ${issue?.message ?? "invalid"}`);
};
