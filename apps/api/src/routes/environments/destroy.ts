import { environmentName, projectName } from "@edgeplane/domain";
import { destroyEnvironment } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseParam } from "../../validate.ts";

export function registerDestroyEnvironment(app: Hono<AppEnv>, deps: ApiDeps) {
  app.delete("/v1/projects/:project/environments/:environment", async (c) => {
    const project = parseParam(projectName, c.req.param("project"), "project");
    const name = parseParam(environmentName, c.req.param("environment"), "environment");
    const env = await destroyEnvironment({
      ctx: deps.services,
      principal: c.get("principal"),
      project,
      name,
    });
    return c.json(env, 202);
  });
}
