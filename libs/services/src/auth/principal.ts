import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { apiTokens, type Db, eq, prepare, rowOf, runPrepared, sql, statements } from "@edgeplane/db";
import { DomainError, type TokenScope } from "@edgeplane/domain";

export type Principal =
  | { kind: "admin"; tokenId: null }
  | { kind: "token"; tokenId: string; scopes: TokenScope[]; projectIds: string[] };

const sha256 = (value: string) => createHash("sha256").update(value).digest();
export const hashToken = (token: string) => sha256(token).toString("hex");
export const generateToken = () => `ept_${randomBytes(32).toString("base64url")}`;

/** Constant-time comparison of two secrets of any length (compared as sha256 digests). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

const TOKEN_BY_HASH = prepare(
  statements
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.hash, sql.placeholder("hash")))
    .limit(1),
);

// the admin token's digest, computed once per token rather than on every request
let admin: { token: string; digest: Buffer } | undefined;

/**
 * Resolves a bearer token to a principal, or throws unauthorized. Never echoes the token. The
 * bearer is hashed once: its digest is compared (constant time) with the admin token's, and looked
 * up among stored token hashes.
 */
export async function authenticate(
  db: Db,
  adminToken: string,
  bearer: string | undefined,
): Promise<Principal> {
  if (!bearer) throw new DomainError("unauthorized", "missing bearer token");
  if (admin?.token !== adminToken) admin = { token: adminToken, digest: sha256(adminToken) };
  const digest = sha256(bearer);
  if (timingSafeEqual(digest, admin.digest)) return { kind: "admin", tokenId: null };
  const [raw] = await runPrepared(db, TOKEN_BY_HASH, { hash: digest.toString("hex") });
  const row = raw && rowOf(apiTokens, raw);
  if (!row || row.revokedAt) throw new DomainError("unauthorized", "invalid or revoked token");
  return { kind: "token", tokenId: row.id, scopes: row.scopes, projectIds: row.projectIds };
}

/** Throws forbidden unless the principal holds `scope` (on `projectId`, when given). */
export function authorize(principal: Principal, scope: TokenScope, projectId?: string): void {
  if (principal.kind === "admin") return;
  if (principal.scopes.includes("admin")) return;
  if (!principal.scopes.includes(scope))
    throw new DomainError("forbidden", `token lacks the '${scope}' scope`);
  if (projectId && !principal.projectIds.includes(projectId)) {
    throw new DomainError("forbidden", "token has no access to this project");
  }
}
