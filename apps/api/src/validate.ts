import { DomainError } from "@edgeplane/domain";
import type { Context } from "hono";
import type { z } from "zod";
import { fromZod } from "./errors.ts";

/** Parses a JSON body with a zod schema; anything else is a 400 that changes nothing. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new DomainError("bad_request", "content-type must be application/json");
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new DomainError("bad_request", "body is not valid JSON");
  }
  const result = schema.safeParse(body);
  if (!result.success) throw fromZod(result.error);
  return result.data;
}

export function parseParam<S extends z.ZodType>(
  schema: S,
  value: string | undefined,
  name: string,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new DomainError("bad_request", `${name}: ${result.error.issues[0]?.message ?? "invalid"}`);
  return result.data;
}
