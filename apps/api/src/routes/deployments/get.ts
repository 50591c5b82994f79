import { idSchema } from "@edgeplane/domain";
import { getDeployment } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseParam } from "../../validate.ts";

export function registerGetDeployment(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/v1/deployments/:id", async (c) => {
    const id = parseParam(idSchema("deployment"), c.req.param("id"), "id");
    return c.json(await getDeployment({ ctx: deps.services, principal: c.get("principal"), id }));
  });
}
