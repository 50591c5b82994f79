import { driverError, isUnavailable } from "@edgeplane/db";
import { DomainError } from "@edgeplane/domain";
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { requireToken } from "./auth.ts";
import { limitBody } from "./body-limit.ts";
import { registerConsole } from "./console/routes.ts";
import type { ApiApp, ApiDeps, AppEnv } from "./context.ts";
import { registerDashboard } from "./dashboard.ts";
import { registerDocs } from "./docs.ts";
import { STATUS_OF } from "./errors.ts";
import { rateLimit, sourceAddress } from "./rate-limit.ts";
import { registerCaRoot } from "./routes/ca/root.ts";
import { registerListCertificates } from "./routes/certificates/list.ts";
import { registerCreateDeployment } from "./routes/deployments/create.ts";
import { registerStreamDeploymentEvents } from "./routes/deployments/events.ts";
import { registerGetDeployment } from "./routes/deployments/get.ts";
import { registerListDeployments } from "./routes/deployments/list.ts";
import { registerDestroyEnvironment } from "./routes/environments/destroy.ts";
import { registerGetEnvironment } from "./routes/environments/get.ts";
import { registerListEnvironments } from "./routes/environments/list.ts";
import { registerListAllEnvironments } from "./routes/environments/list-all.ts";
import { registerStreamEnvironmentLogs } from "./routes/environments/logs.ts";
import { registerGatewayAccess } from "./routes/gateway/access.ts";
import { registerWake } from "./routes/gateway/wake.ts";
import { registerHealth } from "./routes/health.ts";
import { registerScrapeMetrics } from "./routes/metrics/scrape.ts";
import { registerOpenApiDocument } from "./routes/openapi/document.ts";
import { registerStatusPage } from "./routes/pages/status.ts";
import { registerCreateProject } from "./routes/projects/create.ts";
import { registerGetProject } from "./routes/projects/get.ts";
import { registerListProjects } from "./routes/projects/list.ts";
import { registerUpdateProject } from "./routes/projects/update.ts";
import { registerCreateToken } from "./routes/tokens/create.ts";
import { registerListTokens } from "./routes/tokens/list.ts";
import { registerRevokeToken } from "./routes/tokens/revoke.ts";
import { registerGithubWebhook } from "./routes/webhooks/github.ts";
import { rejectInvalid } from "./validate.ts";

/**
 * The whole HTTP API with one error handler: every error is `{ error: { code, message, requestId } }`.
 * Routes declared with `createRoute` describe themselves; GET /v1/openapi.json serves the result.
 */
export function createApp(deps: ApiDeps): ApiApp {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: rejectInvalid });
  app.use(requestId());
  app.use("/v1/*", limitBody(deps.bodyLimitBytes));
  // GitHub caps webhook payloads at 25 MB; pull_request bodies are tens of KB
  app.use("/webhooks/*", limitBody(Math.max(deps.bodyLimitBytes, 5 * 1024 * 1024)));
  app.use("/admin/*", limitBody(deps.bodyLimitBytes));
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    deps.log.info(
      {
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });
  registerHealth(app, deps);
  if (deps.dashboardQueues) registerDashboard(app, deps, deps.dashboardQueues);
  if (deps.rateLimits) {
    const { limiter, webhooks } = deps.rateLimits;
    app.use(
      "/webhooks/github",
      rateLimit(limiter, { bucket: "webhook", limit: webhooks, method: "POST", key: sourceAddress }),
    );
  }
  registerGithubWebhook(app, deps);
  registerStatusPage(app, deps);
  // the gateway's own questions: may this request pass a protected host; wake a sleeping one
  registerGatewayAccess(app, deps);
  registerWake(app, deps, deps.wakeHoldMs ?? 30_000);
  // public, so registered before the token check: the contract and its rendering hold no data
  registerOpenApiDocument(app);
  registerDocs(app);
  registerConsole(app, deps);
  app.use("/v1/*", requireToken(deps));
  if (deps.rateLimits) {
    const { limiter, deploys } = deps.rateLimits;
    app.use(
      "/v1/deployments",
      rateLimit<AppEnv>(limiter, {
        bucket: "deploy",
        limit: deploys,
        method: "POST",
        key: (c) => c.get("principal").tokenId ?? "admin",
      }),
    );
  }
  registerCreateProject(app, deps);
  registerListProjects(app, deps);
  registerGetProject(app, deps);
  registerUpdateProject(app, deps);
  registerCreateToken(app, deps);
  registerListTokens(app, deps);
  registerRevokeToken(app, deps);
  registerCreateDeployment(app, deps);
  registerGetDeployment(app, deps);
  registerStreamDeploymentEvents(app, deps);
  registerListDeployments(app, deps);
  registerListEnvironments(app, deps);
  registerGetEnvironment(app, deps);
  registerDestroyEnvironment(app, deps);
  registerStreamEnvironmentLogs(app, deps);
  registerListAllEnvironments(app, deps);
  registerListCertificates(app, deps);
  registerCaRoot(app, deps);
  registerScrapeMetrics(app, deps);

  app.notFound((c) =>
    c.json(
      {
        error: {
          code: "not_found",
          message: `no route for ${c.req.method} ${c.req.path}`,
          requestId: c.get("requestId"),
        },
      },
      404,
    ),
  );
  app.onError((error, c) => {
    const requestId = c.get("requestId");
    if (error instanceof DomainError) {
      return c.json(
        { error: { code: error.code, message: error.message, requestId } },
        STATUS_OF[error.code],
      );
    }
    // a route's media-type check refuses a JSON content-type with malformed parameters
    if (error instanceof HTTPException && error.status === 415) {
      const message = "content-type must be application/json";
      return c.json({ error: { code: "bad_request", message, requestId } }, 400);
    }
    const cause = driverError(error) as Error;
    if (isUnavailable(error)) {
      deps.log.warn({ requestId, err: cause.message }, "dependency unavailable");
      return c.json(
        {
          error: {
            code: "unavailable",
            message: "state store unavailable, nothing was changed; retry shortly",
            requestId,
          },
        },
        503,
      );
    }
    deps.log.error({ requestId, err: cause.message, stack: cause.stack }, "unhandled error");
    return c.json({ error: { code: "internal", message: "internal error", requestId } }, 500);
  });
  return app;
}
