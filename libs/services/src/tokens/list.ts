import { apiTokens, asc, eq, projects, sql } from "@edgeplane/db";
import { notFound, TOKEN_SCOPES } from "@edgeplane/domain";
import { z } from "zod";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A token as listed: never its plaintext or hash. */
export const tokenViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  projects: z.array(z.string()),
  createdAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenView = z.infer<typeof tokenViewSchema>;

export const revokedTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  revokedAt: z.string().nullable(),
});
export type RevokedToken = z.infer<typeof revokedTokenSchema>;

/** Every token (admin only), oldest first. */
export async function listTokens({
  ctx,
  principal,
}: {
  ctx: ServiceContext;
  principal: Principal;
}): Promise<TokenView[]> {
  authorize(principal, "admin");
  const [tokens, allProjects] = await Promise.all([
    ctx.db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt)),
    ctx.db.select({ id: projects.id, name: projects.name }).from(projects),
  ]);
  const nameOf = new Map(allProjects.map((p) => [p.id, p.name]));
  return tokens.map((t) => ({
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    projects: t.projectIds.map((id) => nameOf.get(id) ?? id),
    createdAt: iso(t.createdAt),
    revokedAt: iso(t.revokedAt),
  }));
}

/** Revokes a token (admin only); revoking twice keeps the first revocation time. */
export async function revokeToken({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string };
}): Promise<RevokedToken> {
  authorize(principal, "admin");
  const [row] = await ctx.db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(eq(apiTokens.id, input.id))
    .returning();
  if (!row) throw notFound(`token '${input.id}'`);
  return { id: row.id, name: row.name, revokedAt: iso(row.revokedAt) };
}
