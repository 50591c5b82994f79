import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { DomainError } from "@edgeplane/domain";
import { authenticate, authorize } from "@edgeplane/services";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { ApiDeps, AppEnv } from "./context.ts";

export const DASHBOARD_PATH = "/admin/queues";

/**
 * The secret a request presents: `Authorization: Bearer <token>` for scripts, or HTTP Basic with
 * the token as password (any user name) so a browser can open the dashboard from its own prompt.
 */
function presentedToken(header: string | undefined): string | undefined {
  const bearer = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
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

/**
 * Bull Board at /admin/queues, listing every queue of this instance. Retrying a failed job from it
 * is always safe: jobs are signed, idempotent and checked against Postgres, and a retried job for
 * an environment's current deployment reopens it. Adding or editing jobs is refused: a job the
 * dashboard wrote would carry no valid signature, so workers would refuse it anyway.
 */
export function registerDashboard(app: Hono<AppEnv>, deps: ApiDeps, queues: Queue[]): void {
  app.use(DASHBOARD_PATH, requireAdmin(deps));
  app.use(`${DASHBOARD_PATH}/*`, requireAdmin(deps));
  const refuse = () => {
    throw new DomainError(
      "forbidden",
      "jobs are signed by edgeplane: the dashboard may retry them, not write them",
    );
  };
  app.post(`${DASHBOARD_PATH}/api/queues/:queueName/add`, refuse);
  app.patch(`${DASHBOARD_PATH}/api/queues/:queueName/:jobId/update-data`, refuse);

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
  app.route(DASHBOARD_PATH, serverAdapter.registerPlugin() as unknown as Hono<AppEnv>);
}
