import { projects } from "@edgeplane/db";
import { conflict, newId } from "@edgeplane/domain";
import { noticeGatewayChange } from "@edgeplane/pipeline";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { forgetProtection, protectionColumns } from "../gateway/protection.ts";
import { projectView } from "../views.ts";
import { checkComposeSettings } from "./compose.ts";
import { credentialColumns } from "./credentials.ts";
import type { CreateProjectInput } from "./schemas.ts";

/** Creates a project (admin only); its name is unique. */
export async function createProject({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: CreateProjectInput;
}) {
  authorize(principal, "admin");
  const { registryCredentials, protection, bypassToken, ...settings } = input;
  const composeSpec = checkComposeSettings(settings);
  const [row] = await ctx.db
    .insert(projects)
    .values({
      id: newId("project"),
      ...settings,
      composeSpec: composeSpec as Record<string, unknown> | null,
      ...credentialColumns(ctx, registryCredentials),
      ...protectionColumns({ protection, bypassToken }),
    })
    .onConflictDoNothing({ target: projects.name })
    .returning();
  if (!row) throw conflict(`project '${input.name}' already exists`);
  forgetProtection();
  if (protection !== undefined) await noticeGatewayChange(ctx.db, row.id); // rendered at once
  return projectView(row);
}
