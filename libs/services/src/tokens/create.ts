import { apiTokens, inArray, projects } from "@edgeplane/db";
import { badRequest, conflict, dnsLabel, newId, TOKEN_SCOPES } from "@edgeplane/domain";
import { z } from "zod";
import { authorize, generateToken, hashToken, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";

export const createTokenInput = z.strictObject({
  name: dnsLabel,
  projects: z.array(dnsLabel).max(100).default([]),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).max(3).default(["deploy", "read"]),
});
export type CreateTokenInput = z.infer<typeof createTokenInput>;

/** A new token as shown once, at creation: the only answer that ever carries the plaintext. */
export const createdTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  token: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  projects: z.array(z.string()),
  createdAt: z.string(),
});
export type CreatedToken = z.infer<typeof createdTokenSchema>;

/** Creates a token (admin only); the plaintext is returned once and only its hash is stored. */
export async function createToken({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: CreateTokenInput;
}): Promise<CreatedToken> {
  authorize(principal, "admin");
  const names = [...new Set(input.projects)];
  const found = names.length
    ? await ctx.db
        .select({ id: projects.id, name: projects.name })
        .from(projects)
        .where(inArray(projects.name, names))
    : [];
  const missing = names.filter((n) => !found.some((p) => p.name === n));
  if (missing.length) throw badRequest(`unknown projects: ${missing.join(", ")}`);
  const token = generateToken();
  const [row] = await ctx.db
    .insert(apiTokens)
    .values({
      id: newId("token"),
      name: input.name,
      hash: hashToken(token),
      scopes: [...new Set(input.scopes)],
      projectIds: found.map((p) => p.id),
    })
    .onConflictDoNothing({ target: apiTokens.name })
    .returning();
  if (!row) throw conflict(`token '${input.name}' already exists`);
  return {
    id: row.id,
    name: row.name,
    token,
    scopes: row.scopes,
    projects: found.map((p) => p.name),
    createdAt: row.createdAt.toISOString(),
  };
}
