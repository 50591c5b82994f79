import { DomainError } from "@edgeplane/domain";
import { authenticate, authorize } from "@edgeplane/services";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { bearerToken } from "./auth.ts";
import type { ApiApp, ApiDeps, AppEnv } from "./context.ts";

export const DASHBOARD_PATH = "/admin/queues";

/**
 * The secret a request presents: `Authorization: Bearer <token>` for scripts, or HTTP Basic with
 * the token as password (any user name) so a browser can open the dashboard from its own prompt.
 */
function presentedToken(header: string | undefined): string | undefined {
  const bearer = bearerToken(header);
  if (bearer) return bearer;
  const basic = header?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i)?.[1];
  if (!basic) return undefined;
  const decoded = Buffer.from(basic, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}

/** The dashboard is for operators: the admin token, or a token with the `admin` scope. */
function requireAdmin(deps: ApiDeps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    // a refusal asks browsers for credentials; the error body stays the API's
    c.header("WWW-Authenticate", 'Basic realm="edgeplane ops", charset="UTF-8"');
    const principal = await authenticate(
      deps.services.db,
      deps.adminToken,
      presentedToken(c.req.header("authorization")),
    );
    authorize(principal, "admin");
    c.header("WWW-Authenticate", undefined);
    c.set("principal", principal);
    await next();
  });
}

/** The one write the dashboard may make: retrying one job (`PUT /api/queues/:queue/:job/retry`). */
const RETRY_ONE_JOB = /^\/api\/queues\/[^/]+\/[^/]+\/retry$/;

/**
 * Bull Board at /admin/queues, listing every queue of this instance. Retrying a failed job from it
 * is always safe: jobs are signed, idempotent and checked against Postgres, and a retried job for
 * an environment's current deployment reopens it. Every other write (adding, editing, removing,
 * cleaning or promoting jobs, pausing queues, changing concurrency or rate limits, job schedulers,
 * purging metrics) is refused with 403, whatever route the pinned Bull Board version has for it:
 * the queues are derived from Postgres, and only edgeplane writes them.
 */
export function registerDashboard(app: ApiApp, deps: ApiDeps, queues: Queue[]): void {
  app.use(DASHBOARD_PATH, requireAdmin(deps));
  app.use(`${DASHBOARD_PATH}/*`, requireAdmin(deps));
  const refuse = () => {
    throw new DomainError(
      "forbidden",
      "the queues are derived from Postgres: the dashboard may retry a job, nothing else",
    );
  };
  app.use(`${DASHBOARD_PATH}/api/*`, async (c, next) => {
    const method = c.req.method;
    const path = c.req.path.slice(DASHBOARD_PATH.length);
    if (method === "GET" || method === "HEAD" || (method === "PUT" && RETRY_ONE_JOB.test(path))) {
      return next();
    }
    refuse();
  });

  // Bull Board (its UI server and adapters, about 10 MiB) is loaded by the first request for it:
  // most API processes never serve the dashboard
  let board: Promise<Hono> | undefined;
  const serve = createMiddleware<AppEnv>(async (c) => {
    board ??= loadBoard(queues);
    return (await board).fetch(c.req.raw, c.env);
  });
  app.all(DASHBOARD_PATH, serve);
  app.all(`${DASHBOARD_PATH}/*`, serve);
}

/** Bull Board over `queues`, served at DASHBOARD_PATH by an app of its own. */
async function loadBoard(queues: Queue[]): Promise<Hono> {
  const [{ createBullBoard }, { BullMQAdapter }, { HonoAdapter }] = await Promise.all([
    import("@bull-board/api"),
    import("@bull-board/api/bullMQAdapter"),
    import("@bull-board/hono"),
  ]);
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map(
      (queue) => new BullMQAdapter(queue, { description: `prefix ${queue.opts.prefix ?? ""}` }),
    ),
    // @bull-board/hono pins its own patch release of @bull-board/api: same shape, distinct declarations
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]["serverAdapter"],
    options: { uiConfig: { boardTitle: "edgeplane queues" } },
  });
  return new Hono().route(DASHBOARD_PATH, serverAdapter.registerPlugin() as unknown as Hono);
}
