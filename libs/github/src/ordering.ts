import type { PullRequestEvent } from "./payloads.ts";

/** What was recorded from the last pull_request event applied to an environment. */
export interface PullRequestSeen {
  updatedAt: Date;
  state: "open" | "closed";
}

export function seenFrom(event: PullRequestEvent): PullRequestSeen {
  return { updatedAt: new Date(event.pull_request.updated_at), state: event.pull_request.state };
}

/**
 * GitHub does not promise to deliver webhooks in order, and redelivers on request, so an event may
 * arrive after a newer one was applied. `pull_request.updated_at` orders them:
 *
 * - an event older than the last applied one is stale;
 * - once the pull request was seen closed, any event other than `closed` that is not newer than the
 *   close is stale: a late `synchronize` or `labeled` must not bring a torn-down preview back. A real
 *   `reopened` always moves `updated_at` past the close.
 *
 * Equal timestamps are otherwise not stale (applying intent is idempotent). `updated_at` has
 * one-second resolution, so a close and a reopen within the same second cannot be told apart; the
 * next push settles it. Record `seenFrom(event)` after applying every event that is not stale,
 * including skipped ones.
 */
export function isStale(event: PullRequestEvent, lastSeen: PullRequestSeen | null): boolean {
  if (lastSeen === null) return false;
  const updatedAt = new Date(event.pull_request.updated_at).getTime();
  const seenAt = lastSeen.updatedAt.getTime();
  if (updatedAt < seenAt) return true;
  return lastSeen.state === "closed" && event.action !== "closed" && updatedAt <= seenAt;
}
