import type postgres from "postgres";
import { docker } from "../../test/support/images.ts";
import type { TestSystem } from "../../test/support/system.ts";
import { pollUntil } from "./probe.ts";

/**
 * Waits until edgeplane's own background work has ended (a destroyed environment's network gone,
 * `spares` spare networks made again), so that neither side of a pair runs into it: each measures
 * its own start on an otherwise idle machine.
 */
export async function quiet(system: TestSystem, sql: postgres.Sql, spares: number): Promise<void> {
  let seen = "";
  await pollUntil(
    async () => {
      const [row] = await sql<{ spares: number; live: number }[]>`
        select (select count(*) from network_spares)::int as spares,
          (select count(*) from environments where status <> 'destroyed')::int as live`;
      const networks = await docker.listNetworks({
        filters: { label: ["edgeplane.managed=true", `edgeplane.instance=${system.instance}`] },
      });
      seen = `${row?.live} environments, ${row?.spares} spares (want ${spares}), ${networks.length} networks`;
      if (!row || row.spares < spares || networks.length !== row.live + row.spares) return undefined;
      return true;
    },
    "edgeplane's background work to end",
    { intervalMs: 100 },
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${seen})`);
  });
}
