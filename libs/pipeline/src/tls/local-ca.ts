import { certificateAuthorities, type DbOrTx, eq } from "@edgeplane/db";
import { createLocalCa, type LocalCa } from "@edgeplane/tls";

const LOCAL_CA_ID = "local";

/** edgeplane's local CA, created on first use; concurrent first uses agree on one (the first insert wins). */
export async function ensureLocalCa(db: DbOrTx): Promise<LocalCa> {
  const existing = await readLocalCa(db);
  if (existing) return existing;
  const ca = await createLocalCa({ commonName: "edgeplane local CA" });
  await db
    .insert(certificateAuthorities)
    .values({ id: LOCAL_CA_ID, certPem: ca.certPem, keyPem: ca.keyPem })
    .onConflictDoNothing({ target: certificateAuthorities.id });
  const stored = await readLocalCa(db);
  if (!stored) throw new Error("local CA vanished after it was stored");
  return stored;
}

async function readLocalCa(db: DbOrTx): Promise<LocalCa | undefined> {
  const [row] = await db
    .select({ certPem: certificateAuthorities.certPem, keyPem: certificateAuthorities.keyPem })
    .from(certificateAuthorities)
    .where(eq(certificateAuthorities.id, LOCAL_CA_ID))
    .limit(1);
  return row;
}
