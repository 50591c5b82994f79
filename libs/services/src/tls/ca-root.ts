import type { DbOrTx } from "@edgeplane/db";
import { ensureLocalCa } from "@edgeplane/pipeline";

/** The root certificate to trust (no key): what `edgeplane ca export` prints. */
export async function localCaRoot(db: DbOrTx): Promise<string> {
  return (await ensureLocalCa(db)).certPem;
}
