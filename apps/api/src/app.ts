import { DomainError } from "@edgeplane/domain";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { requireToken } from "./auth.ts";
import type { ApiDeps, AppEnv } from "./context.ts";
import { registerDashboard } from "./dashboard.ts";
import { driverError, isUnavailable, STATUS_OF } from "./errors.ts";
import { rateLimit, sourceAddress } from "./rate-limit.ts";
import { registerCaRoot } from "./routes/ca/root.ts";
import { registerCreateDeployment } from "./routes/deployments/create.ts";
import { registerGetDeployment } from "./routes/deployments/get.ts";
import { registerDestroyEnvironment } from "./routes/environments/destroy.ts";
import { registerListAllEnvironments } from "./routes/environments/list-all.ts";
import { registerReadEnvironments } from "./routes/environments/read.ts";
import { registerHealth } from "./routes/health.ts";
import { registerMetrics } from "./routes/metrics.ts";
import { registerStatusPage } from "./routes/pages/status.ts";
import { registerProjectCertificates } from "./routes/projects/certificates.ts";
import { registerCreateProject } from "./routes/projects/create.ts";
import { registerReadProjects } from "./routes/projects/read.ts";
import { registerUpdateProject } from "./routes/projects/update.ts";
import { registerCreateToken } from "./routes/tokens/create.ts";
import { registerManageTokens } from "./routes/tokens/manage.ts";
import { registerGithubWebhook } from "./routes/webhooks/github.ts";

/** The whole HTTP API with one error handler: every error is `{ error: { code, message, requestId } }`. */
export function createApp(deps: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new DomainError("payload_too_large", `body larger than ${maxSize} bytes`);
      },
    });
  app.use("/v1/*", limit(deps.bodyLimitBytes));
  // GitHub caps webhook payloads at 25 MB; pull_request bodies are tens of KB
  app.use("/webhooks/*", limit(Math.max(deps.bodyLimitBytes, 5 * 1024 * 1024)));
  app.use("/admin/*", limit(deps.bodyLimitBytes));
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
  app.use("/v1/*", requireToken(deps));
  if (deps.rateLimits) {
    const { limiter, deploys } = deps.rateLimits;
    app.use(
      "/v1/deployments",
      rateLimit(limiter, {
        bucket: "deploy",
        limit: deploys,
        method: "POST",
        key: (c) => c.get("principal").tokenId ?? "admin",
      }),
    );
  }
  registerCreateProject(app, deps);
  registerReadProjects(app, deps);
  registerUpdateProject(app, deps);
  registerCreateToken(app, deps);
  registerManageTokens(app, deps);
  registerCreateDeployment(app, deps);
  registerGetDeployment(app, deps);
  registerReadEnvironments(app, deps);
  registerDestroyEnvironment(app, deps);
  registerListAllEnvironments(app, deps);
  registerProjectCertificates(app, deps);
  registerCaRoot(app, deps);
  registerMetrics(app, deps);

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
