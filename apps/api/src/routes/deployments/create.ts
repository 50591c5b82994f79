import { requestDeployment, requestDeploymentInput } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseBody } from "../../validate.ts";

export function registerCreateDeployment(app: Hono<AppEnv>, deps: ApiDeps) {
  app.post("/v1/deployments", async (c) => {
    const input = await parseBody(c, requestDeploymentInput);
    const deployment = await requestDeployment({ ctx: deps.services, principal: c.get("principal"), input });
    c.header("Location", `/v1/deployments/${deployment.id}`);
    return c.json(deployment, 202);
  });
}
