import type { Sql } from "@edgeplane/db";
import { and, type Db, environments, eq, lt, networkSpares, notInArray, projects, sql } from "@edgeplane/db";
import { GONE_STATUSES } from "@edgeplane/domain";
import type { Logger } from "@edgeplane/log";
import type { Producer } from "@edgeplane/queue";
import type { Runtime } from "@edgeplane/runtime";
import { enqueueTeardown } from "../enqueue.ts";
import { recordTeardown } from "../intent.ts";
import { withAdvisoryLock } from "../lock.ts";
import { releaseEnvironmentNetwork, SPARES_LOCK } from "../network.ts";
import { collectUnusedImages } from "./image-gc.ts";

export interface SweepDeps {
  db: Db;
  sql: Sql;
  producer: Producer;
  runtime: Runtime;
  instance: string;
  log: Logger;
  /** A `destroying` environment untouched this long gets its teardown enqueued again. */
  stuckAfterMs: number;
  /** Images edgeplane pulled and nothing used for this long are removed; 0 or unset: never. */
  imageGraceMs?: number;
}

export interface SweepReport {
  closed: number;
  expired: number;
  retried: number;
  orphans: number;
  /** Networks of no live environment, removed. */
  networks: number;
  /** Volumes of no live environment, removed. */
  volumes: number;
  /** Unused images removed from the runtime. */
  images: number;
  /** Runtime leftovers cleaned up (a Swarm's ports of services that are gone). */
  pruned: number;
}

/**
 * The janitor's periodic sweep, level-triggered from Postgres and Docker:
 * previews whose pull request closed, previews idle past their project's TTL, teardowns that got
 * stuck, and orphan containers (edgeplane's labels, no live environment). If either listing cannot
 * be read in full, nothing is destroyed on the strength of it.
 */
export async function sweep(deps: SweepDeps, now = new Date()): Promise<SweepReport> {
  return withAdvisoryLock(deps.sql, "janitor-sweep", async () => {
    const closed = await destroyWhere(
      deps,
      and(eq(environments.kind, "preview"), eq(environments.prState, "closed")),
    );
    const expired = await destroyWhere(
      deps,
      and(
        eq(environments.kind, "preview"),
        sql`${projects.previewTtlHours} > 0`,
        lt(
          environments.lastActivityAt,
          sql`${now.toISOString()}::timestamptz - make_interval(hours => ${projects.previewTtlHours})`,
        ),
      ),
    );

    const stuck = await deps.db
      .select()
      .from(environments)
      .where(
        and(
          eq(environments.status, "destroying"),
          lt(environments.updatedAt, new Date(now.getTime() - deps.stuckAfterMs)),
        ),
      );
    for (const env of stuck) {
      await enqueueTeardown(deps.producer, env, `r${now.getTime()}`);
    }

    // under the spares' lock: a refill makes a spare's network and holders before it records the
    // spare, and in between they would look like orphans (the spare then named a network that was gone)
    const { orphans, orphanNetworks, orphanVolumes } = await withAdvisoryLock(deps.sql, SPARES_LOCK, () =>
      removeOrphans(deps),
    );
    const gc = await collectUnusedImages({ ...deps, graceMs: deps.imageGraceMs ?? 0 }, now);
    const pruned = (await deps.runtime.prune?.()) ?? 0;
    const report = {
      closed,
      expired,
      retried: stuck.length,
      orphans: orphans.length,
      networks: orphanNetworks.length,
      volumes: orphanVolumes.length,
      images: gc.removed,
      pruned,
    };
    const total = Object.values(report).reduce((a, b) => a + b, 0);
    if (total > 0) {
      deps.log.info(report, "sweep");
    }
    return report;
  });
}

/** Records teardown intent for every live environment matching `where`, then enqueues each. */
async function destroyWhere(deps: SweepDeps, where: ReturnType<typeof and>): Promise<number> {
  const targets = await deps.db.transaction(async (tx) => {
    const rows = await tx
      .select({ env: environments })
      .from(environments)
      .innerJoin(projects, eq(projects.id, environments.projectId))
      .where(and(notInArray(environments.status, [...GONE_STATUSES]), where))
      .for("update", { of: environments });
    const changed = [];
    for (const { env } of rows) {
      const updated = await recordTeardown(tx, env);
      if (updated) changed.push(updated);
    }
    return changed;
  });
  for (const env of targets) await enqueueTeardown(deps.producer, env);
  return targets.length;
}

/**
 * Containers, networks and volumes of no live environment or spare: removed. Both listings must be
 * complete, or nothing is removed.
 */
async function removeOrphans(deps: SweepDeps) {
  const containers = await deps.runtime.list();
  const live = await deps.db
    .select({ id: environments.id })
    .from(environments)
    .where(notInArray(environments.status, ["destroyed"]));
  // spare networks belong to environments yet to come (see refillSpares)
  const spares = await deps.db.select({ id: networkSpares.environmentId }).from(networkSpares);
  const liveIds = new Set([...live, ...spares].map((e) => e.id));
  const orphans = containers.filter((c) => !liveIds.has(c.environmentId));
  for (const c of orphans) {
    await deps.runtime.remove(c.id);
    deps.log.info({ container: c.id.slice(0, 12), name: c.name }, "removed orphan container");
  }
  // networks of no live environment (their containers are gone above): removed, subnets given back
  const orphanNetworks = (await deps.runtime.listNetworks()).filter((n) => !liveIds.has(n.environmentId));
  for (const n of orphanNetworks) {
    await releaseEnvironmentNetwork(deps, n.environmentId);
    deps.log.info({ network: n.name }, "removed orphan network");
  }
  // volumes of no live environment: a preview's data never outlives it
  const orphanVolumes = (await deps.runtime.listVolumes()).filter((v) => !liveIds.has(v.environmentId));
  for (const v of orphanVolumes) {
    await deps.runtime.removeVolume(v.name);
    deps.log.info({ volume: v.name }, "removed orphan volume");
  }
  return { orphans, orphanNetworks, orphanVolumes };
}
