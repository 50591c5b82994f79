import { open, stat, truncate } from "node:fs/promises";
import { and, type Db, environments, eq, inArray, projects, sql } from "@edgeplane/db";
import { environmentHostnameOf } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import { type JobContext, jobIds, type Producer, QUEUES } from "@edgeplane/queue";
import type { HeldLock } from "../lock.ts";
import type { ReconcileDeps } from "./reconcile-deps.ts";

/** A log this large is emptied once read (a line written in between may be lost: it only delays a sleep). */
const MAX_ACTIVITY_LOG_BYTES = 16 * 1024 * 1024;

/**
 * Reads what the gateway logged since the last read (`$msec $host` per request served for an
 * environment's host): the latest request per host, in epoch milliseconds.
 */
export async function readActivity(path: string, cursor: { offset: number }): Promise<Map<string, number>> {
  const latest = new Map<string, number>();
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size < cursor.offset) cursor.offset = 0; // emptied or replaced
  if (size === cursor.offset) return latest;
  const file = await open(path, "r");
  try {
    const buffer = Buffer.alloc(size - cursor.offset);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, cursor.offset);
    const text = buffer.subarray(0, bytesRead).toString("utf8");
    const complete = text.lastIndexOf("\n") + 1; // a line being written is read next time
    cursor.offset += Buffer.byteLength(text.slice(0, complete));
    for (const line of text.slice(0, complete).split("\n")) {
      const [msec, host] = line.split(" ");
      const at = Math.round(Number(msec) * 1000);
      if (!host || !Number.isFinite(at)) continue;
      const name = host.toLowerCase();
      if ((latest.get(name) ?? 0) < at) latest.set(name, at);
    }
  } finally {
    await file.close();
  }
  if (cursor.offset > MAX_ACTIVITY_LOG_BYTES) {
    await truncate(path, 0);
    cursor.offset = 0;
  }
  return latest;
}

/**
 * One idleness check (worker-ingress, every EDGEPLANE_SLEEP_CHECK_MS): record the requests the
 * gateway served since the last check on their environments (`lastRequestAt`), then put to sleep
 * every ready environment of a project with `sleepAfterSeconds` (previews; fixed ones only with
 * `sleepFixed`) that nothing asked for that long since it became ready: the intent (`sleeping`)
 * first, then a reconcile that stops its containers and has the gateway send its hosts to the waker.
 */
export async function checkIdle(
  deps: {
    db: Db;
    producer: Producer;
    log: Logger;
    activityLog: string;
    /** Renders the gateway from Postgres; resolves once served, with the old config's drain. */
    syncGateway: () => Promise<{ drained: Promise<void> }>;
  },
  cursor: { offset: number },
  now = new Date(),
): Promise<{ seen: number; asleep: number }> {
  const activity = await readActivity(deps.activityLog, cursor);
  const latest = new Map<string, number>();
  for (const [host, at] of activity) {
    const hostname = environmentHostnameOf(host);
    latest.set(hostname, Math.max(latest.get(hostname) ?? 0, at));
  }
  for (const [hostname, at] of latest) {
    await deps.db
      .update(environments)
      .set({
        lastRequestAt: sql`greatest(coalesce(${environments.lastRequestAt}, to_timestamp(0)), ${new Date(at).toISOString()}::timestamptz)`,
        // a request is not a change of the environment: its updatedAt stays
        updatedAt: sql`${environments.updatedAt}`,
      })
      .where(eq(environments.hostname, hostname));
  }
  const idle = await deps.db
    .select({ id: environments.id })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(
      and(
        eq(environments.status, "ready"),
        sql`${projects.sleepAfterSeconds} > 0`,
        sql`(${environments.kind} = 'preview' or ${projects.sleepFixed})`,
        sql`greatest(coalesce(${environments.lastRequestAt}, to_timestamp(0)), coalesce(${environments.readyAt}, to_timestamp(0)), ${environments.lastActivityAt}) < ${now.toISOString()}::timestamptz - make_interval(secs => ${projects.sleepAfterSeconds})`,
      ),
    );
  if (idle.length === 0) return { seen: latest.size, asleep: 0 };
  const asleep = await deps.db
    .update(environments)
    .set({ status: "sleeping", sleepingSince: now })
    .where(
      and(
        inArray(
          environments.id,
          idle.map((e) => e.id),
        ),
        eq(environments.status, "ready"),
      ),
    )
    .returning();
  if (asleep.length === 0) return { seen: latest.size, asleep: 0 };
  // the hosts go to the waker first; containers stop only once no gateway worker routes to them
  const { drained } = await deps.syncGateway();
  await drained;
  for (const env of asleep) {
    await deps.producer.enqueue(
      QUEUES.reconcile,
      {
        deploymentId: null,
        environmentId: env.id,
        projectId: env.projectId,
        generation: env.generation,
        image: env.desiredImage,
      },
      jobIds.reconcile(env.id, env.generation, `sleep-${now.getTime()}`),
    );
    deps.log.info({ environment: env.id, name: env.name }, "environment idle: putting it to sleep");
  }
  return { seen: latest.size, asleep: asleep.length };
}

/**
 * reconcile of a sleeping environment (its hosts already sent to the waker): stop, not remove, its
 * containers, which keep their addresses for the wake.
 */
export async function putToSleep(
  deps: ReconcileDeps,
  ctx: JobContext,
  env: { id: string },
  lock: HeldLock,
): Promise<void> {
  const containers = await deps.runtime.list({ environmentId: env.id });
  for (const c of containers.filter((c) => c.running)) {
    lock.assertHeld();
    await deps.runtime.stop(c.id);
  }
  ctx.log.info({ stopped: containers.filter((c) => c.running).length }, "environment asleep");
}
