import { DomainError } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, Env } from "hono";
import { createMiddleware } from "hono/factory";
import type { Redis } from "ioredis";

export interface RateLimitVerdict {
  allowed: boolean;
  /** Seconds until the window resets (the `Retry-After` of a refusal). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  hit(bucket: string, key: string, limit: number): Promise<RateLimitVerdict>;
}

// INCR and set the window's expiry in one step, so a key never outlives its window.
const HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/**
 * Fixed-window counters in Redis, shared by every API process of the instance (keys under the
 * queue prefix). If Redis cannot be reached the request is let through: the limits protect the
 * pipeline, and a deploy whose intent Postgres accepts must not fail because Redis is away.
 */
export function redisRateLimiter(options: {
  redis: Redis;
  prefix: string;
  windowMs: number;
  log: Logger;
}): RateLimiter {
  return {
    async hit(bucket, key, limit) {
      const now = Date.now();
      const window = Math.floor(now / options.windowMs);
      const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * options.windowMs - now) / 1000));
      try {
        const count = Number(
          await options.redis.eval(
            HIT,
            1,
            `${options.prefix}:ratelimit:${bucket}:${key}:${window}`,
            options.windowMs,
          ),
        );
        return { allowed: count <= limit, retryAfterSeconds };
      } catch (error) {
        options.log.warn(
          { bucket, err: (error as Error).message },
          "rate limit not checked: Redis unavailable",
        );
        return { allowed: true, retryAfterSeconds };
      }
    },
  };
}

/** The peer's address as the socket reports it (proxy headers are not trusted: anyone can set them). */
export function sourceAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served over a socket (in-process requests)
  }
}

/**
 * 429 with `Retry-After` once `key(c)` made more than `limit` requests in the window; 0 turns it off.
 * Generic over the app's env, so this file needs nothing from the app that uses it.
 */
export function rateLimit<E extends Env>(
  limiter: RateLimiter,
  options: { bucket: string; limit: number; method: string; key: (c: Context<E>) => string },
) {
  return createMiddleware<E>(async (c, next) => {
    if (options.limit > 0 && c.req.method === options.method) {
      const verdict = await limiter.hit(options.bucket, options.key(c), options.limit);
      if (!verdict.allowed) {
        c.header("Retry-After", String(verdict.retryAfterSeconds));
        throw new DomainError(
          "rate_limited",
          `more than ${options.limit} ${options.bucket} requests in the current window; retry in ${verdict.retryAfterSeconds}s`,
        );
      }
    }
    await next();
  });
}
