import { receiveGithubWebhook } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";

/**
 * GitHub webhooks: no bearer token; each delivery is authenticated by its HMAC signature against
 * the secret of the project linked to the repository. Answers 202 once the intent is committed.
 */
export function registerGithubWebhook(app: Hono<AppEnv>, deps: ApiDeps) {
  app.post("/webhooks/github", async (c) => {
    const rawBody = await c.req.text();
    const result = await receiveGithubWebhook({
      ctx: deps.services,
      rawBody,
      headers: {
        event: c.req.header("x-github-event"),
        delivery: c.req.header("x-github-delivery"),
        signature: c.req.header("x-hub-signature-256"),
      },
    });
    if (result.duplicate) return c.json({ status: "duplicate", message: "delivery already processed" }, 200);
    return c.json({ status: "accepted", outcomes: result.outcomes }, 202);
  });
}
