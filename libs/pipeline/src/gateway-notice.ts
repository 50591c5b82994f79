import { type DbOrTx, sql } from "@edgeplane/db";

/**
 * The Postgres channel on which a change the gateway must render at once (a project's protection)
 * is announced. A nudge only: the state is in Postgres, and every render reads all of it.
 */
export const GATEWAY_CHANNEL = "edgeplane_gateway";

export async function noticeGatewayChange(db: DbOrTx, projectId: string): Promise<void> {
  await db.execute(sql`select pg_notify(${GATEWAY_CHANNEL}, ${projectId})`);
}
