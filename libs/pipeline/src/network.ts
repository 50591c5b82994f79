import { type Db, environmentNetworks, eq, networkSpares, type Sql, sql } from "@edgeplane/db";
import { newId } from "@edgeplane/domain";
import { networkNameFor, type Runtime, SubnetTaken, toInt, toIp } from "@edgeplane/runtime";
import { withAdvisoryLock } from "./lock.ts";

/** Where environments' subnets come from: `EDGEPLANE_NETWORK_POOL` cut into `/prefix` subnets. */
export interface NetworkPool {
  cidr: string;
  prefix: number;
}

/** What making environment networks needs: Postgres (rows and locks), the runtime, the pool. */
type NetworkDeps = { db: Db; sql: Sql; runtime: Runtime; instance: string; pool: NetworkPool };

interface PoolShape {
  base: number;
  size: number;
  count: number;
}

function shapeOf(pool: NetworkPool): PoolShape {
  const [address = "", bits = ""] = pool.cidr.split("/");
  const poolPrefix = Number(bits);
  if (!(poolPrefix >= 8 && poolPrefix <= pool.prefix)) {
    throw new Error(`network pool ${pool.cidr} cannot hold /${pool.prefix} subnets`);
  }
  const poolSize = 2 ** (32 - poolPrefix);
  const base = toInt(address) - (toInt(address) % poolSize);
  const size = 2 ** (32 - pool.prefix);
  return { base, size, count: poolSize / size };
}

/** The subnet at `index` of the pool, as CIDR. */
export function subnetAt(pool: NetworkPool, index: number): string {
  const { base, size } = shapeOf(pool);
  return `${toIp(base + index * size)}/${pool.prefix}`;
}

/**
 * The environment's private network, created on first use: a subnet of its own from the pool,
 * recorded in Postgres (`environment_networks`) so no other environment of this edgeplane gets
 * it, and skipped when something else on the host already uses it. Staging and reconcile both
 * make it, on any machine: one at a time per environment (an advisory lock), since Docker makes
 * two networks of one name when asked at once.
 */
export async function ensureEnvironmentNetwork(
  deps: NetworkDeps,
  env: { id: string; projectId: string },
): Promise<{ name: string; subnet: string }> {
  const name = networkNameFor(deps.instance, env.id);
  const { count } = shapeOf(deps.pool);
  return withAdvisoryLock(deps.sql, `network:${env.id}`, async (lock) => {
    let from = 0;
    for (;;) {
      const index = await allocate(deps.db, env.id, from, count);
      const subnet = subnetAt(deps.pool, index);
      lock.assertHeld();
      try {
        await deps.runtime.ensureNetwork({
          instance: deps.instance,
          projectId: env.projectId,
          environmentId: env.id,
          name,
          subnet,
        });
        return { name, subnet };
      } catch (error) {
        if (!(error instanceof SubnetTaken)) throw error;
        // used by a network that is not ours: give the index back and take a later one
        await deps.db.delete(environmentNetworks).where(eq(environmentNetworks.environmentId, env.id));
        from = index + 1;
      }
    }
  });
}

/**
 * The subnet index the environment holds, or the lowest free one at `from` or above, taken for it
 * (the caller gives an index back before asking past it).
 */
async function allocate(db: Db, environmentId: string, from: number, count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const [held] = await db
      .select({ index: environmentNetworks.subnetIndex })
      .from(environmentNetworks)
      .where(eq(environmentNetworks.environmentId, environmentId));
    if (held) return held.index;
    const rows = await db.execute<{ subnet_index: number }>(sql`
      insert into environment_networks (subnet_index, environment_id)
      select i, ${environmentId} from generate_series(${from}::int, ${count - 1}::int) as i
      where not exists (select 1 from environment_networks n where n.subnet_index = i)
      order by i limit 1
      on conflict do nothing
      returning subnet_index`);
    const [row] = rows as unknown as Array<{ subnet_index: number }>;
    if (row) return row.subnet_index;
    const [free] = (await db.execute(sql`
      select 1 from generate_series(${from}::int, ${count - 1}::int) as i
      where not exists (select 1 from environment_networks n where n.subnet_index = i) limit 1`)) as unknown as unknown[];
    if (!free)
      throw new Error(
        "the network pool is exhausted: raise EDGEPLANE_NETWORK_POOL or lower EDGEPLANE_NETWORK_PREFIX",
      );
    // another environment took that index at the same moment: look again
  }
  throw new Error("could not allocate a subnet for the environment");
}

/** Removes the environment's network and gives its subnet back. */
export async function releaseEnvironmentNetwork(
  deps: { db: Db; runtime: Runtime; instance: string },
  environmentId: string,
): Promise<void> {
  await deps.runtime.removeNetwork(networkNameFor(deps.instance, environmentId));
  await deps.db.delete(environmentNetworks).where(eq(environmentNetworks.environmentId, environmentId));
}

/** Held while spares are made, and by the orphan sweep, to which a spare not recorded yet looks orphaned. */
export const SPARES_LOCK = "network-spares";

/** What spare networks are labelled with for a project: they belong to none yet. */
const SPARE_PROJECT = "spare";

/** Per database, the refill running in this process: whether another was asked for meanwhile. */
const refilling = new WeakMap<Db, { again: boolean }>();

/**
 * Makes environment networks ahead, up to `want` (see `networkSpares`): each under a new
 * environment id, with its subnet recorded and, where the runtime can, two network holders on it
 * (its first deploy's, and a redeploy's that comes before that deploy readied the next); the id is
 * offered to new environments only once all are ready. Forgets spares an environment has taken.
 * One refill at a time: in a process, a refill asked for while one runs makes it go round once
 * more instead of waiting (every waiter would hold a database connection, and enough of them
 * starve the running one of its own); across processes, an advisory lock. On a runtime with
 * nothing to ready, none are made.
 */
export async function refillSpares(deps: NetworkDeps, want: number): Promise<number> {
  if (!deps.runtime.prepareStart || want <= 0) return 0;
  const running = refilling.get(deps.db);
  if (running) {
    running.again = true;
    return 0;
  }
  const mine = { again: false };
  refilling.set(deps.db, mine);
  try {
    let made = 0;
    do {
      mine.again = false;
      made += await refillOnce(deps, want);
    } while (mine.again);
    return made;
  } finally {
    refilling.delete(deps.db);
  }
}

/** How many times a failed refill is asked for again before the next deploy asks. */
const REFILL_RETRIES = 3;

/** Per database, the refill waiting for this process's deploys to pause, and since when it waits. */
const deferred = new WeakMap<Db, { timer: NodeJS.Timeout; since: number }>();

/**
 * Refills the spares (see `refillSpares`) once this process has asked for no refill for `quietMs`,
 * or at the latest `quietMs * 4` after the first ask. A refill (a network and two holders) costs
 * Docker about what a deploy's container start does: run as soon as a new environment took a spare,
 * it slowed the redeploy that often comes right after (its p95 in bench/deploy). A refill that
 * fails (Docker refusing a holder's start under load, say) is asked for again, `retries` times at
 * most: otherwise the spares would stay short until the next deploy.
 */
export function refillSparesWhenQuiet(
  deps: NetworkDeps,
  want: number,
  quietMs: number,
  onError: (error: Error) => void,
  retries = REFILL_RETRIES,
): void {
  if (!deps.runtime.prepareStart || want <= 0) return;
  const waiting = deferred.get(deps.db);
  const since = waiting?.since ?? Date.now();
  if (waiting) clearTimeout(waiting.timer);
  const delay = Math.max(0, Math.min(quietMs, since + quietMs * 4 - Date.now()));
  const timer = setTimeout(() => {
    deferred.delete(deps.db);
    refillSpares(deps, want).catch((error: Error) => {
      onError(error);
      if (retries > 0) refillSparesWhenQuiet(deps, want, quietMs, onError, retries - 1);
    });
  }, delay);
  timer.unref();
  deferred.set(deps.db, { timer, since });
}

async function refillOnce(deps: NetworkDeps, want: number): Promise<number> {
  const { runtime } = deps;
  return withAdvisoryLock(deps.sql, SPARES_LOCK, async (lock) => {
    await deps.db.execute(sql`delete from ${networkSpares} where exists
      (select 1 from environments e where e.id = ${networkSpares.environmentId})`);
    let made = 0;
    for (let count = await deps.db.$count(networkSpares); count < want; count++) {
      lock.assertHeld();
      const id = newId("environment");
      const network = await ensureEnvironmentNetwork(deps, { id, projectId: SPARE_PROJECT });
      await runtime.prepareStart?.({ projectId: SPARE_PROJECT, environmentId: id, network, holders: 2 });
      await deps.db.insert(networkSpares).values({ environmentId: id });
      made++;
    }
    return made;
  });
}
