import { DomainError } from "@edgeplane/domain";
import type { Env, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/**
 * Refuses a body over `maxSize` bytes with 413 payload_too_large. A body that states its size
 * (Content-Length without Transfer-Encoding: the HTTP parser holds the body to it) is judged by the
 * header alone, so the route reads it once, straight from the socket; only a chunked body is
 * counted as it streams in (hono's bodyLimit, which turns the request into a web-stream Request:
 * costly enough to show in a profile of every deploy request if it were done for all).
 */
export function limitBody<E extends Env>(maxSize: number): MiddlewareHandler<E> {
  const tooLarge = (): never => {
    throw new DomainError("payload_too_large", `body larger than ${maxSize} bytes`);
  };
  const streamed = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number.parseInt(length, 10) > maxSize) tooLarge();
      return next();
    }
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    return streamed(c, next);
  };
}
