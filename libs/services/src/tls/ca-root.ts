import { notFound } from "@edgeplane/domain";
import { readLocalCaRoot } from "@edgeplane/pipeline";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";

/**
 * The root certificate to trust (no key): what `edgeplane ca export` prints. The CA is created by
 * the process that issues (worker-ingress) once a project uses local TLS; before that there is none.
 */
export async function localCaRoot({
  ctx,
  principal,
}: {
  ctx: ServiceContext;
  principal: Principal;
}): Promise<string> {
  authorize(principal, "read");
  const root = await readLocalCaRoot(ctx.db);
  if (!root) throw notFound("local CA (no project uses local TLS yet)");
  return root.certPem;
}
