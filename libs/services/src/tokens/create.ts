import { apiTokens, type Db, inArray, projects } from "@edgeplane/db";
import { badRequest, conflict, dnsLabel, newId, TOKEN_SCOPES } from "@edgeplane/domain";
import { z } from "zod";
import { generateToken, hashToken } from "../auth/principal.ts";

export const createTokenInput = z.strictObject({
  name: dnsLabel,
  projects: z.array(dnsLabel).max(100).default([]),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).max(3).default(["deploy", "read"]),
});
export type CreateTokenInput = z.infer<typeof createTokenInput>;

/** Creates a token; the plaintext is returned once and only its hash is stored. */
export async function createToken({ db, input }: { db: Db; input: CreateTokenInput }) {
  const names = [...new Set(input.projects)];
  const found = names.length
    ? await db
        .select({ id: projects.id, name: projects.name })
        .from(projects)
        .where(inArray(projects.name, names))
    : [];
  const missing = names.filter((n) => !found.some((p) => p.name === n));
  if (missing.length) throw badRequest(`unknown projects: ${missing.join(", ")}`);
  const token = generateToken();
  const [row] = await db
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
  return { token, row, projectNames: found.map((p) => p.name) };
}
