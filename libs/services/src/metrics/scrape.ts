import type { Registry } from "prom-client";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";

/**
 * One Prometheus scrape of the registry `createMetrics` built (admin only): the text exposition
 * and its content type.
 */
export async function scrapeMetrics({
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { registry: Registry };
}): Promise<{ contentType: string; text: string }> {
  authorize(principal, "admin");
  return { contentType: input.registry.contentType, text: await input.registry.metrics() };
}
