import { setTimeout as sleep } from "node:timers/promises";
import { and, asc, deploymentEvents, eq, gt } from "@edgeplane/db";
import { type DeploymentPhase, isTerminalPhase, notFound } from "@edgeplane/domain";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { type DeploymentView, deploymentView } from "../views.ts";
import { findDeploymentRow } from "./get.ts";

/** One thing a watcher of a deployment is told, in order. */
export type DeploymentUpdate =
  | {
      kind: "event";
      /** The event's id: resume after it with `after`. */
      id: number;
      /** `status` is the deployment's status when the event was read (it may have moved on since). */
      event: { phase: DeploymentPhase; message: string | null; at: string; status: DeploymentPhase };
    }
  | { kind: "end"; deployment: DeploymentView };

/** Events read at a time; a longer history is read in several queries, in order. */
const PAGE = 200;

/**
 * Follows one deployment for a token that may read its project: its events after `after` (all of
 * them without it), in order, then new ones as they are recorded (Postgres is polled every
 * `pollMs`), and once the deployment is in a terminal phase (`ready`, `failed`, `superseded`) and
 * every event up to it was told, an `end` with the deployment. Not found and forbidden are thrown
 * before this resolves; the updates stop when `signal` aborts.
 */
export async function watchDeployment({
  ctx,
  principal,
  input: { id, after = 0 },
  signal,
  pollMs = 250,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string; after?: number | undefined };
  signal?: AbortSignal;
  pollMs?: number;
}): Promise<AsyncIterable<DeploymentUpdate>> {
  const first = await findDeploymentRow(ctx.db, id);
  if (!first) throw notFound(`deployment '${id}'`);
  authorize(principal, "read", first.p.id);
  return updates(ctx, id, after, first, signal, pollMs);
}

async function* updates(
  ctx: ServiceContext,
  id: string,
  after: number,
  first: NonNullable<Awaited<ReturnType<typeof findDeploymentRow>>>,
  signal: AbortSignal | undefined,
  pollMs: number,
): AsyncGenerator<DeploymentUpdate> {
  let last = after;
  let row: typeof first | undefined = first;
  while (!signal?.aborted) {
    // the status is read before the events: an event is recorded in the transaction that moves the
    // status, so every event up to a terminal status read here is in the listing that follows
    row ??= await findDeploymentRow(ctx.db, id);
    if (!row) return; // deleted meanwhile (its project was removed)
    const events = await ctx.db
      .select()
      .from(deploymentEvents)
      .where(and(eq(deploymentEvents.deploymentId, id), gt(deploymentEvents.id, last)))
      .orderBy(asc(deploymentEvents.id))
      .limit(PAGE);
    for (const e of events) {
      if (signal?.aborted) return;
      last = e.id;
      yield {
        kind: "event",
        id: e.id,
        event: { phase: e.phase, message: e.message, at: e.at.toISOString(), status: row.d.status },
      };
    }
    if (events.length === PAGE) continue; // more history to tell before anything else
    if (isTerminalPhase(row.d.status)) {
      yield { kind: "end", deployment: deploymentView(row.d, row.e, row.p, ctx.urls) };
      return;
    }
    row = undefined;
    try {
      await sleep(pollMs, undefined, signal ? { signal } : {});
    } catch {
      return; // aborted
    }
  }
}
