import { and, environments, eq, inArray } from "@edgeplane/db";
import { environmentHostnameOf } from "@edgeplane/domain";
import { jobIds, QUEUES, wakeSuffix } from "@edgeplane/queue";
import type { ServiceContext } from "../context.ts";

export type WakeState =
  | { state: "unknown" }
  | { state: "waking"; environment: string }
  | { state: "ready"; upstream: { address: string; port: number } };

/**
 * A request reached the gateway for a host whose environment sleeps: record the intent to wake it
 * (status `waking`, once) and hand it to reconcile, which starts its stopped containers again and
 * routes them. Answers where the host is served once it is awake. A public verb: the request itself,
 * through the gateway, is what wakes an environment.
 */
export async function wakeHost({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { host: string };
}): Promise<WakeState> {
  const host = input.host.toLowerCase();
  const [env] = await ctx.db
    .select()
    .from(environments)
    .where(inArray(environments.hostname, [...new Set([host, environmentHostnameOf(host)])]))
    .limit(1);
  if (!env) return { state: "unknown" };
  if (env.status === "sleeping") {
    const [woken] = await ctx.db
      .update(environments)
      .set({ status: "waking", sleepingSince: null })
      .where(and(eq(environments.id, env.id), eq(environments.status, "sleeping")))
      .returning();
    if (woken) {
      await ctx.producer.enqueue(
        QUEUES.reconcile,
        {
          deploymentId: null,
          environmentId: woken.id,
          projectId: woken.projectId,
          generation: woken.generation,
          image: woken.desiredImage,
        },
        `${jobIds.reconcile(woken.id, woken.generation)}${wakeSuffix(Date.now())}`,
      );
    }
    return { state: "waking", environment: env.name };
  }
  if (env.status !== "ready") return { state: "waking", environment: env.name };
  const service = Object.values(env.routedServices ?? {}).find((s) => s.hostname === host);
  const address = service ? service.address : env.routedAddress;
  const port = service ? service.port : env.routedPort;
  if (!address || !port) return { state: "waking", environment: env.name };
  return { state: "ready", upstream: { address, port } };
}
