import { watchDeployment } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { deploymentParams } from "../../openapi/params.ts";
import { access } from "../../openapi/security.ts";

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

const EXAMPLE =
  'id: 41\nevent: phase\ndata: {"phase":"queued","message":null,"at":"2025-01-01T00:00:00.000Z","status":"starting"}\n\n' +
  'id: 42\nevent: phase\ndata: {"phase":"staging","message":null,"at":"2025-01-01T00:00:00.210Z","status":"starting"}\n\n' +
  'event: end\ndata: {"id":"dep_00000000000000000000","status":"ready","url":"http://pr-42.preview.example.com:8080",...}\n\n';

const route = createRoute({
  method: "get",
  path: "/v1/deployments/{id}/events",
  operationId: "streamDeploymentEvents",
  tags: ["deployments"],
  summary: "Follow a deployment's events as they happen (server-sent events)",
  description:
    "A `text/event-stream`: the deployment's events so far, then each new one as it is recorded, in order, each as `event: phase` with the event's id and `data` `{phase, message, at, status}` (`status`: the deployment's status when the event was sent). Once the deployment is `ready`, `failed` or `superseded`, a last `event: end` whose `data` is the deployment (as `GET /v1/deployments/{id}` shows it, without its events), and the stream closes. `Last-Event-ID` resumes after that event. A comment line is sent every 15 s while nothing happens. Should the stream itself fail, a last `event: error` carries the one error body.",
  ...access("read", { perProject: true }),
  request: {
    params: deploymentParams,
    headers: z.object({
      "last-event-id": z
        .string()
        .regex(/^\d{1,15}$/, "must be the id of an event this stream sent")
        .optional()
        .meta({ description: "Resume after this event (EventSource sends it when it reconnects)" }),
    }),
  },
  responses: {
    200: {
      description: "The deployment's events, until it ends",
      content: { "text/event-stream": { schema: z.string(), example: EXAMPLE } },
    },
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

export function registerStreamDeploymentEvents(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const lastEventId = c.req.valid("header")["last-event-id"];
    const abort = new AbortController();
    const updates = await watchDeployment({
      ctx: deps.services,
      principal: c.get("principal"),
      input: { id, after: lastEventId === undefined ? undefined : Number(lastEventId) },
      signal: abort.signal,
    });
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => abort.abort());
      c.req.raw.signal.addEventListener("abort", () => abort.abort(), { once: true });
      const keepAlive = setInterval(() => void stream.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
      try {
        for await (const update of updates) {
          // written as the wire shows them: `id`, `event`, then `data` (JSON has no newline in it)
          await stream.write(
            update.kind === "event"
              ? `id: ${update.id}\nevent: phase\ndata: ${JSON.stringify(update.event)}\n\n`
              : `event: end\ndata: ${JSON.stringify(update.deployment)}\n\n`,
          );
        }
      } catch (error) {
        const requestId = c.get("requestId");
        deps.log.warn({ requestId, deploymentId: id, err: (error as Error).message }, "event stream failed");
        const body = {
          error: { code: "unavailable", message: "the event stream failed; reconnect", requestId },
        };
        await stream.write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
      } finally {
        clearInterval(keepAlive);
        abort.abort();
      }
    });
  });
}
