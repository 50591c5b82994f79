import { getDeployment } from "@edgeplane/services";
import type { Hono } from "hono";
import { z } from "zod";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseParam } from "../../validate.ts";

export function registerGetDeployment(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/v1/deployments/:id", async (c) => {
    const id = parseParam(z.string().regex(/^dep_[0-9a-f]+$/, "not a deployment id"), c.req.param("id"), "id");
    return c.json(await getDeployment({ ctx: deps.services, principal: c.get("principal"), id }));
  });
}
