import { type SQL, sql } from "drizzle-orm";
import { networkSpares } from "./schema/environment-networks.ts";
import { environments } from "./schema/environments.ts";

/**
 * The id a new environment is inserted with: the oldest spare (`network_spares`) no environment
 * has yet, its network ready, else `fallback`. The spare's row is locked until the transaction
 * ends and skipped by every other: two environments created at once never take the same one.
 */
export function spareEnvironmentId(fallback: unknown): SQL {
  return sql`coalesce((select ${networkSpares.environmentId} from ${networkSpares}
    where not exists (select 1 from ${environments} where ${environments.id} = ${networkSpares.environmentId})
    order by ${networkSpares.createdAt}, ${networkSpares.environmentId}
    limit 1 for update of ${networkSpares} skip locked), ${fallback})`;
}
