import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { apiTokens, type Db, eq } from "@edgeplane/db";
import { DomainError, type TokenScope } from "@edgeplane/domain";

export type Principal =
  | { kind: "admin"; tokenId: null }
  | { kind: "token"; tokenId: string; scopes: TokenScope[]; projectIds: string[] };

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");
export const generateToken = () => `ept_${randomBytes(32).toString("base64url")}`;

/** Constant-time comparison of two secrets of any length (compared as sha256 digests). */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash("sha256").update(a).digest();
  const right = createHash("sha256").update(b).digest();
  return timingSafeEqual(left, right);
}

/** Resolves a bearer token to a principal, or throws unauthorized. Never echoes the token. */
export async function authenticate(
  db: Db,
  adminToken: string,
  bearer: string | undefined,
): Promise<Principal> {
  if (!bearer) throw new DomainError("unauthorized", "missing bearer token");
  if (safeEqual(bearer, adminToken)) return { kind: "admin", tokenId: null };
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.hash, hashToken(bearer)))
    .limit(1);
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
