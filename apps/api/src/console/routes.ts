import { DomainError } from "@edgeplane/domain";
import { authenticate, describePrincipal, sessionSubject } from "@edgeplane/services";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import type { ApiApp, ApiDeps } from "../context.ts";
import { registerConsoleAssets } from "./assets.ts";
import { CONSOLE_HEADER, consolePrincipal, fromConsole, SESSION_COOKIE, sessionsOf } from "./principal.ts";
import { SESSION_TTL_SECONDS } from "./sessions.ts";

const signInInput = z.strictObject({ token: z.string().min(1).max(1024) });

/** Secure when the browser reached us over https (directly, or through a proxy that says so). */
const overHttps = (c: Context) =>
  new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";

/**
 * The web console: its pages at `/` and `/assets/*`, and its session.
 *
 * - `POST /console/session {token}` checks the token exactly as the bearer check does and answers
 *   who signed in, with the session cookie (an opaque random id; the token stays server-side as
 *   a token id, and never reaches the browser's storage).
 * - `POST /console/logout` ends the session and clears the cookie; signing out twice is harmless.
 * - `GET /console/me` says who is signed in, so the console offers only the buttons it may use.
 *
 * Every one of them needs the console's header, like the cookie does on /v1.
 */
export function registerConsole(app: ApiApp, deps: ApiDeps): void {
  app.use(
    "/console/*",
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: () => {
        throw new DomainError("payload_too_large", `body larger than ${deps.bodyLimitBytes} bytes`);
      },
    }),
    async (c, next) => {
      if (!fromConsole(c)) {
        throw new DomainError("forbidden", `console calls carry the header ${CONSOLE_HEADER}: 1`);
      }
      c.header("cache-control", "no-store");
      await next();
    },
  );

  app.post("/console/session", async (c) => {
    const body = signInInput.safeParse(await c.req.json().catch(() => null));
    if (!body.success) throw new DomainError("bad_request", 'send {"token": "<an edgeplane token>"}');
    const principal = await authenticate(deps.services.db, deps.adminToken, body.data.token);
    const id = await sessionsOf(deps).create(sessionSubject(principal, deps.adminToken));
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: overHttps(c),
      maxAge: SESSION_TTL_SECONDS,
    });
    return c.json(await describePrincipal({ ctx: deps.services, principal }), 200);
  });

  app.post("/console/logout", async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    if (id) await sessionsOf(deps).remove(id);
    deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: overHttps(c) });
    return c.body(null, 204);
  });

  app.get("/console/me", async (c) => {
    const principal = await consolePrincipal(c, deps);
    return c.json(await describePrincipal({ ctx: deps.services, principal }), 200);
  });

  registerConsoleAssets(app);
}
