import { DomainError } from "@edgeplane/domain";
import { type Principal, sessionPrincipal } from "@edgeplane/services";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { ApiDeps } from "../context.ts";
import { type ConsoleSessions, memoryConsoleSessions } from "./sessions.ts";

/** The session cookie: HttpOnly, SameSite=Strict, Path=/, Secure over https. */
export const SESSION_COOKIE = "edgeplane_session";

/**
 * The header the console's scripts send with every call. A cross-site form or link cannot set a
 * custom header (a cross-origin script would need a CORS preflight, which is never granted), so a
 * request carrying it came from the console's own pages: the cookie counts only with it.
 */
export const CONSOLE_HEADER = "x-edgeplane-console";

export const fromConsole = (c: Context) => c.req.header(CONSOLE_HEADER) === "1";

const fallback = new WeakMap<ApiDeps, ConsoleSessions>();

/** The session store of this app: Redis in the real API, this process's memory without one. */
export function sessionsOf(deps: ApiDeps): ConsoleSessions {
  if (deps.consoleSessions) return deps.consoleSessions;
  let sessions = fallback.get(deps);
  if (!sessions) {
    sessions = memoryConsoleSessions();
    fallback.set(deps, sessions);
  }
  return sessions;
}

/**
 * The principal of the request's console session, checked again against Postgres (a revoked
 * token's session ends at once). The caller has checked the console header. Throws unauthorized.
 */
export async function consolePrincipal(c: Context, deps: ApiDeps): Promise<Principal> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id) throw new DomainError("unauthorized", "missing bearer token or console session");
  const subject = await sessionsOf(deps).find(id);
  if (!subject) throw new DomainError("unauthorized", "console session ended: sign in again");
  return sessionPrincipal(deps.services, deps.adminToken, subject);
}
