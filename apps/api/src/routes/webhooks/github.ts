import { receiveGithubWebhook } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { json, webhookOutcomeOpenApi } from "../../openapi/schemas.ts";

const header = (name: string, description: string, example: string) => ({
  name,
  in: "header" as const,
  required: true,
  description,
  schema: { type: "string" as const },
  example,
});

// The headers and body are documented, not validated here: the verb checks them itself, against
// the raw bytes that GitHub signed (a parsed and re-serialised body would no longer match).
const route = createRoute({
  method: "post",
  path: "/webhooks/github",
  operationId: "receiveGithubWebhook",
  tags: ["webhooks"],
  summary: "Receive a GitHub webhook delivery",
  description:
    "No bearer token: each delivery is authenticated by its HMAC signature against the secret of the project linked to the repository. Answers 202 once the intent is committed; a redelivery is answered 200 and does nothing twice.",
  security: [],
  parameters: [
    header(
      "X-Hub-Signature-256",
      "`sha256=` and the HMAC-SHA256 of the raw body",
      `sha256=${"0".repeat(64)}`,
    ),
    header("X-GitHub-Event", "The event name, e.g. `pull_request` or `ping`", "ping"),
    header("X-GitHub-Delivery", "The delivery's unique id", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
  ],
  requestBody: {
    required: true,
    description: "The event payload as GitHub sent it",
    content: {
      "application/json": {
        schema: { type: "object" },
        example: { zen: "Keep it logically awesome.", repository: { full_name: "acme/web" } },
      },
    },
  },
  responses: {
    200: json(
      "A delivery already processed",
      z.object({ status: z.literal("duplicate"), message: z.string() }),
    ),
    202: json(
      "Accepted: what the delivery did to each linked project",
      z.object({ status: z.literal("accepted"), outcomes: z.array(webhookOutcomeOpenApi) }),
    ),
    ...errorResponses("bad_request", "unauthorized", "not_found", "payload_too_large", "rate_limited"),
  },
});

/**
 * GitHub webhooks: no bearer token; each delivery is authenticated by its HMAC signature against
 * the secret of the project linked to the repository. Answers 202 once the intent is committed.
 */
export function registerGithubWebhook(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const rawBody = await c.req.text();
    const headers = {
      event: c.req.header("x-github-event"),
      delivery: c.req.header("x-github-delivery"),
      signature: c.req.header("x-hub-signature-256"),
    };
    const result = await receiveGithubWebhook({ ctx: deps.services, input: { headers, rawBody } });
    if (result.duplicate)
      return c.json({ status: "duplicate" as const, message: "delivery already processed" }, 200);
    return c.json({ status: "accepted" as const, outcomes: result.outcomes }, 202);
  });
}
