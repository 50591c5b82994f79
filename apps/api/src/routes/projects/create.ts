import { authorize, createProject, createProjectInput, projectView } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseBody } from "../../validate.ts";

export function registerCreateProject(app: Hono<AppEnv>, deps: ApiDeps) {
  app.post("/v1/projects", async (c) => {
    authorize(c.get("principal"), "admin");
    const input = await parseBody(c, createProjectInput);
    const project = await createProject({ db: deps.services.db, input });
    return c.json(projectView(project), 201);
  });
}
