import { environmentName, projectName } from "@edgeplane/domain";
import { getEnvironment, listEnvironments } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseParam } from "../../validate.ts";

export function registerReadEnvironments(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/v1/projects/:project/environments", async (c) => {
    const project = parseParam(projectName, c.req.param("project"), "project");
    const includeDestroyed = c.req.query("include") === "destroyed";
    const rows = await listEnvironments({
      ctx: deps.services,
      principal: c.get("principal"),
      project,
      includeDestroyed,
    });
    return c.json({ environments: rows });
  });
  app.get("/v1/projects/:project/environments/:environment", async (c) => {
    const project = parseParam(projectName, c.req.param("project"), "project");
    const name = parseParam(environmentName, c.req.param("environment"), "environment");
    return c.json(await getEnvironment({ ctx: deps.services, principal: c.get("principal"), project, name }));
  });
}
