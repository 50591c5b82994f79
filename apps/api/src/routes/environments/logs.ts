import { environmentLogs, LOG_TAIL_DEFAULT, LOG_TAIL_MAX } from "@edgeplane/services";
import { createRoute, z } from "@hono/zod-openapi";
import type { TypedResponse } from "hono";
import { stream } from "hono/streaming";
import type { ApiApp, ApiDeps } from "../../context.ts";
import { errorResponses } from "../../openapi/errors.ts";
import { environmentParams } from "../../openapi/params.ts";
import { access } from "../../openapi/security.ts";

const route = createRoute({
  method: "get",
  path: "/v1/projects/{project}/environments/{environment}/logs",
  operationId: "streamEnvironmentLogs",
  tags: ["environments"],
  summary: "Read (and follow) an environment's container output",
  description:
    "The output (stdout and stderr) of the environment's current container, streamed as plain text: its last `tail` lines, then with `follow=1` whatever it writes until it stops or the client goes away. In a compose environment every line starts with `[service] ` (the last `tail` lines of each service's container; `service` picks one). Read over the Docker socket by the API process. 409 when the environment has no container.",
  ...access("read", { perProject: true }),
  request: {
    params: environmentParams,
    query: z.object({
      tail: z.coerce
        .number()
        .int()
        .min(0)
        .max(LOG_TAIL_MAX)
        .default(LOG_TAIL_DEFAULT)
        .meta({
          description: `Lines from the end of each container's output (at most ${LOG_TAIL_MAX})`,
          example: 100,
        }),
      follow: z
        .enum(["1", "0", "true", "false"])
        .default("0")
        .meta({ description: "`1`: keep streaming what the container writes", example: "1" }),
      service: z
        .string()
        .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "must be a compose service name")
        .optional()
        .meta({ description: "One service of a compose environment", example: "web" }),
    }),
  },
  responses: {
    200: {
      description: "The output, line by line, until it ends",
      content: { "text/plain": { schema: z.string(), example: "[web] listening on :8080\n" } },
    },
    ...errorResponses("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
  },
});

export function registerStreamEnvironmentLogs(app: ApiApp, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    const params = c.req.valid("param");
    const query = c.req.valid("query");
    const abort = new AbortController();
    let lines: AsyncIterable<string>;
    try {
      lines = await environmentLogs({
        ctx: deps.services,
        principal: c.get("principal"),
        input: {
          ...params,
          tail: query.tail,
          follow: query.follow === "1" || query.follow === "true",
          service: query.service,
        },
        signal: abort.signal,
      });
    } catch (error) {
      abort.abort(); // a container's log opened before another was refused: close its request to Docker
      throw error;
    }
    c.header("content-type", "text/plain; charset=utf-8");
    c.header("cache-control", "no-cache");
    // nginx and other proxies would otherwise hold the lines back
    c.header("x-accel-buffering", "no");
    const response = stream(c, async (out) => {
      out.onAbort(() => abort.abort());
      c.req.raw.signal.addEventListener("abort", () => abort.abort(), { once: true });
      try {
        for await (const text of lines) {
          if (out.aborted) break;
          await out.write(text);
        }
      } catch (error) {
        if (!abort.signal.aborted) {
          const requestId = c.get("requestId");
          deps.log.warn({ requestId, ...params, err: (error as Error).message }, "log stream failed");
        }
      } finally {
        abort.abort();
      }
    });
    // a streamed body: the typed text response of a `text/plain` route is a whole string
    return response as unknown as TypedResponse<string, 200, "text">;
  });
}
