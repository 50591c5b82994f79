import { type Db, eq, sql, swarmPorts } from "@edgeplane/db";
import type { PortAllocator } from "@edgeplane/runtime";

/** `first-last`, as EDGEPLANE_SWARM_PORT_RANGE gives it. */
export function portRange(value: string): { first: number; last: number } {
  const [first = 0, last = 0] = value.split("-").map(Number);
  return { first, last };
}

/**
 * The Swarm's published ports, allocated in Postgres: a port is held by one service (its name) from
 * its start until its removal, so no two services are ever given one port. Ports are handed out
 * round the range from the last one taken, so a port just given back (its old task may still be
 * stopping on its node) is the last to be taken again.
 */
export function postgresPorts(db: Db, range: { first: number; last: number }): PortAllocator {
  const size = range.last - range.first + 1;
  return {
    async allocate(owner) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const [held] = await db
          .select({ port: swarmPorts.port })
          .from(swarmPorts)
          .where(eq(swarmPorts.owner, owner));
        if (held) return held.port;
        const rows = (await db.execute(sql`
          with last as (select coalesce((select port from swarm_ports order by created_at desc, port desc limit 1), ${range.last}::int) as port)
          insert into swarm_ports (port, owner)
          select p, ${owner} from generate_series(${range.first}::int, ${range.last}::int) as p, last
          where not exists (select 1 from swarm_ports s where s.port = p)
          order by (p - last.port - 1 + ${size}::int) % ${size}::int
          limit 1
          on conflict do nothing
          returning port`)) as unknown as Array<{ port: number }>;
        if (rows[0]) return rows[0].port;
        const [{ used = 0 } = {}] = (await db.execute(
          sql`select count(*)::int as used from swarm_ports`,
        )) as unknown as Array<{ used?: number }>;
        if (used >= size) {
          throw new Error(`no free port left in EDGEPLANE_SWARM_PORT_RANGE ${range.first}-${range.last}`);
        }
        // another service took that port (or this owner got one) at the same moment: look again
      }
      throw new Error("could not allocate a port for the service");
    },
    async release(owner) {
      await db.delete(swarmPorts).where(eq(swarmPorts.owner, owner));
    },
    async owners() {
      return (await db.select({ owner: swarmPorts.owner }).from(swarmPorts)).map((r) => r.owner);
    },
  };
}
