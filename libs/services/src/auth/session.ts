import { createHash } from "node:crypto";
import { apiTokens, eq, inArray, projects } from "@edgeplane/db";
import { DomainError, TOKEN_SCOPES } from "@edgeplane/domain";
import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { type Principal, safeEqual } from "./principal.ts";

/**
 * Whom a console session stands for, as kept server-side: a token's id, or the admin token's
 * fingerprint. Never the token itself: the browser posts it once at sign-in, and the session
 * store holds nothing a request could present as a bearer token.
 */
export const sessionSubjectSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("admin"), fingerprint: z.string() }),
  z.object({ kind: z.literal("token"), tokenId: z.string() }),
]);
export type SessionSubject = z.infer<typeof sessionSubjectSchema>;

/** Changes when the admin token does, so a new admin token ends the old one's sessions. */
const adminFingerprint = (adminToken: string) =>
  createHash("sha256").update(`edgeplane console session\0${adminToken}`).digest("hex");

/** What a session keeps of the principal that signed in. */
export function sessionSubject(principal: Principal, adminToken: string): SessionSubject {
  return principal.kind === "admin"
    ? { kind: "admin", fingerprint: adminFingerprint(adminToken) }
    : { kind: "token", tokenId: principal.tokenId };
}

/**
 * The principal of a session, read again at every request: a token revoked (or its grants changed)
 * since sign-in counts at once, and so does a new admin token. Throws unauthorized otherwise.
 */
export async function sessionPrincipal(
  ctx: ServiceContext,
  adminToken: string,
  subject: SessionSubject,
): Promise<Principal> {
  const ended = new DomainError("unauthorized", "console session ended: sign in again");
  if (subject.kind === "admin") {
    if (!safeEqual(subject.fingerprint, adminFingerprint(adminToken))) throw ended;
    return { kind: "admin", tokenId: null };
  }
  const [row] = await ctx.db.select().from(apiTokens).where(eq(apiTokens.id, subject.tokenId)).limit(1);
  if (!row || row.revokedAt) throw ended;
  return { kind: "token", tokenId: row.id, scopes: row.scopes, projectIds: row.projectIds };
}

/** Who is signed in, as the console shows it and decides which buttons to offer. */
export const principalViewSchema = z.object({
  /** `admin` for the admin token. */
  tokenName: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  /** The projects the token is granted; the `admin` scope acts on every project. */
  projects: z.array(z.string()),
});
export type PrincipalView = z.infer<typeof principalViewSchema>;

export async function describePrincipal({
  ctx,
  principal,
}: {
  ctx: ServiceContext;
  principal: Principal;
}): Promise<PrincipalView> {
  if (principal.kind === "admin") return { tokenName: "admin", scopes: ["admin"], projects: [] };
  const [token] = await ctx.db
    .select({ name: apiTokens.name })
    .from(apiTokens)
    .where(eq(apiTokens.id, principal.tokenId))
    .limit(1);
  const granted = principal.projectIds.length
    ? await ctx.db
        .select({ name: projects.name })
        .from(projects)
        .where(inArray(projects.id, principal.projectIds))
    : [];
  return {
    tokenName: token?.name ?? principal.tokenId,
    scopes: principal.scopes,
    projects: granted.map((p) => p.name).sort(),
  };
}
