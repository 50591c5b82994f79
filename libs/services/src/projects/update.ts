import { eq, projects } from "@edgeplane/db";
import { noticeGatewayChange } from "@edgeplane/pipeline";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { forgetProtection, protectionColumns } from "../gateway/protection.ts";
import { projectView } from "../views.ts";
import { checkComposeSettings } from "./compose.ts";
import { credentialColumns } from "./credentials.ts";
import { findProjectByName } from "./find.ts";
import type { UpdateProjectInput } from "./schemas.ts";

/** Changes a project's settings (admin only); name and domain stay fixed. */
export async function updateProject({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { project: string; changes: UpdateProjectInput };
}) {
  authorize(principal, "admin");
  const project = await findProjectByName(ctx.db, input.project);
  const { registryCredentials, protection, bypassToken, ...changes } = input.changes;
  // settings that depend on the compose file are checked with it, whichever of them changed
  const composeSpec = checkComposeSettings({ ...project, ...changes });
  const [row] = await ctx.db
    .update(projects)
    .set({
      ...changes,
      composeSpec: composeSpec as Record<string, unknown> | null,
      ...credentialColumns(ctx, registryCredentials),
      ...protectionColumns({ protection, bypassToken }),
    })
    .where(eq(projects.id, project.id))
    .returning();
  if (!row) throw new Error("project update returned nothing");
  forgetProtection();
  if (protection !== undefined) await noticeGatewayChange(ctx.db, row.id); // rendered at once
  return projectView(row);
}
