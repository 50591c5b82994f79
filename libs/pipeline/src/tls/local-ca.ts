import { certificateAuthorities, type DbOrTx, eq } from "@edgeplane/db";
import {
  coversDomains,
  createLocalCa,
  isSealedCaKey,
  type LocalCa,
  openCaKey,
  sealCaKey,
} from "@edgeplane/tls";

const LOCAL_CA_ID = "local";
const COMMON_NAME = "edgeplane local CA";

export class LocalCaMissingError extends Error {
  override name = "LocalCaMissingError";
}

/**
 * The local CA's root certificate, never its key: what the API serves for users to trust. The CA is
 * created by the process that issues (worker-ingress) when the first project with `local` TLS needs a
 * certificate; until then there is none.
 */
export async function readLocalCaRoot(db: DbOrTx): Promise<{ certPem: string } | undefined> {
  const [row] = await db
    .select({ certPem: certificateAuthorities.certPem })
    .from(certificateAuthorities)
    .where(eq(certificateAuthorities.id, LOCAL_CA_ID))
    .limit(1);
  return row;
}

/**
 * The root certificate for the API (never the key; the API has no CA key and creates nothing).
 * @deprecated use readLocalCaRoot, which tells "no CA yet" apart; kept for callers in the API.
 */
export async function ensureLocalCa(db: DbOrTx): Promise<{ certPem: string }> {
  const root = await readLocalCaRoot(db);
  if (!root)
    throw new LocalCaMissingError(
      "no local CA yet: it is created when a project with local TLS gets its first certificate",
    );
  return root;
}

/**
 * The local CA as the issuing process holds it (worker-ingress, the only one given EDGEPLANE_CA_KEY),
 * made to cover `domains`: the project domains with `local` TLS.
 *
 * One CA for every project domain, whose name constraints permit exactly those domains: created with
 * them; when a domain appears that they do not cover, its root is issued again with the same key and
 * the domains wanted now (earlier certificates still chain to it). Browsers hold the root they were
 * given, so a new local-TLS domain needs the root exported and trusted again. Its private key is
 * stored sealed under `secret` (a key kept outside Postgres); a key stored in the clear by an older
 * version is sealed on first use. Call under the certificate upkeep's lock.
 */
export async function localCaForIssuing(
  db: DbOrTx,
  options: { secret: Buffer; domains: string[] },
): Promise<LocalCa> {
  const [row] = await db
    .select({ certPem: certificateAuthorities.certPem, keyPem: certificateAuthorities.keyPem })
    .from(certificateAuthorities)
    .where(eq(certificateAuthorities.id, LOCAL_CA_ID))
    .limit(1);
  if (!row) {
    const ca = await createLocalCa({ commonName: COMMON_NAME, permittedDomains: options.domains });
    await db
      .insert(certificateAuthorities)
      .values({ id: LOCAL_CA_ID, certPem: ca.certPem, keyPem: sealCaKey(ca.keyPem, options.secret) })
      .onConflictDoNothing({ target: certificateAuthorities.id });
    // a concurrent first use may have won: go on with whichever CA is stored
    return localCaForIssuing(db, options);
  }
  const keyPem = isSealedCaKey(row.keyPem) ? openCaKey(row.keyPem, options.secret) : row.keyPem;
  let certPem = row.certPem;
  if (!coversDomains(certPem, options.domains)) {
    const reissued = await createLocalCa({
      commonName: COMMON_NAME,
      permittedDomains: options.domains,
      keyPem,
    });
    certPem = reissued.certPem;
  }
  if (certPem !== row.certPem || !isSealedCaKey(row.keyPem)) {
    await db
      .update(certificateAuthorities)
      .set({ certPem, keyPem: sealCaKey(keyPem, options.secret) })
      .where(eq(certificateAuthorities.id, LOCAL_CA_ID));
  }
  return { certPem, keyPem };
}
