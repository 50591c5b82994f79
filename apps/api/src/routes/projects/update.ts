import { projectName } from "@edgeplane/domain";
import { authorize, projectView, updateProject, updateProjectInput } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseBody, parseParam } from "../../validate.ts";

export function registerUpdateProject(app: Hono<AppEnv>, deps: ApiDeps) {
  app.patch("/v1/projects/:project", async (c) => {
    authorize(c.get("principal"), "admin");
    const name = parseParam(projectName, c.req.param("project"), "project");
    const input = await parseBody(c, updateProjectInput);
    return c.json(projectView(await updateProject({ db: deps.services.db, name, input })));
  });
}
