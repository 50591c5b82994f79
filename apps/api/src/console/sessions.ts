import { createHash, randomBytes } from "node:crypto";
import { DomainError } from "@edgeplane/domain";
import { type SessionSubject, sessionSubjectSchema } from "@edgeplane/services";
import type { Redis } from "ioredis";

/** How long a console session lasts from sign-in; then the console asks for the token again. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;

/** A session id as issued: 32 random bytes, base64url. Anything else is not looked up. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Console sessions, server-side: an opaque random id (the cookie) mapped to whom it stands for.
 * The store keys sessions by the id's sha256, so what it holds cannot be replayed as a cookie.
 */
export interface ConsoleSessions {
  create(subject: SessionSubject): Promise<string>;
  find(id: string): Promise<SessionSubject | null>;
  remove(id: string): Promise<void>;
}

const keyOf = (id: string) => createHash("sha256").update(id).digest("hex");
const newSessionId = () => randomBytes(32).toString("base64url");

/**
 * Sessions in Redis under the instance's prefix, shared by every API process and kept across their
 * restarts; sign-out deletes the key, and Redis expires it after SESSION_TTL_SECONDS. Without Redis a
 * session cannot be read: 503, never a session let in unchecked.
 */
export function redisConsoleSessions(options: { redis: Redis; prefix: string }): ConsoleSessions {
  const key = (id: string) => `${options.prefix}:console-session:${keyOf(id)}`;
  const unavailable = () =>
    new DomainError("unavailable", "session store unavailable, nothing was changed; retry shortly");
  return {
    async create(subject) {
      const id = newSessionId();
      await options.redis
        .set(key(id), JSON.stringify(subject), "EX", SESSION_TTL_SECONDS)
        .catch((): never => {
          throw unavailable();
        });
      return id;
    },
    async find(id) {
      if (!SESSION_ID.test(id)) return null;
      const stored = await options.redis.get(key(id)).catch((): never => {
        throw unavailable();
      });
      if (stored === null) return null;
      const parsed = sessionSubjectSchema.safeParse(JSON.parse(stored));
      return parsed.success ? parsed.data : null;
    },
    async remove(id) {
      if (!SESSION_ID.test(id)) return;
      await options.redis.del(key(id)).catch((): never => {
        throw unavailable();
      });
    },
  };
}

/** Sessions in this process's memory: for an API built without Redis (the route tests' harness). */
export function memoryConsoleSessions(): ConsoleSessions {
  const sessions = new Map<string, { subject: SessionSubject; expires: number }>();
  return {
    async create(subject) {
      const id = newSessionId();
      sessions.set(keyOf(id), { subject, expires: Date.now() + SESSION_TTL_SECONDS * 1000 });
      return id;
    },
    async find(id) {
      const entry = SESSION_ID.test(id) ? sessions.get(keyOf(id)) : undefined;
      if (!entry) return null;
      if (entry.expires > Date.now()) return entry.subject;
      sessions.delete(keyOf(id));
      return null;
    },
    async remove(id) {
      sessions.delete(keyOf(id));
    },
  };
}
