import { projectName } from "@edgeplane/domain";
import { authorize, findProjectByName, listProjects, projectView } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseParam } from "../../validate.ts";

export function registerReadProjects(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/v1/projects", async (c) => {
    const principal = c.get("principal");
    const only =
      principal.kind === "admin" || principal.scopes.includes("admin") ? undefined : principal.projectIds;
    const rows = await listProjects(deps.services.db, only);
    return c.json({ projects: rows.map(projectView) });
  });
  app.get("/v1/projects/:project", async (c) => {
    const name = parseParam(projectName, c.req.param("project"), "project");
    const project = await findProjectByName(deps.services.db, name);
    authorize(c.get("principal"), "read", project.id);
    return c.json(projectView(project));
  });
}
