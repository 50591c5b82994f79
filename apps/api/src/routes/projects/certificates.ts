import { projectName } from "@edgeplane/domain";
import { listCertificates } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseParam } from "../../validate.ts";

/** A project's certificates: names, validity and the last failed attempt; never key material. */
export function registerProjectCertificates(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/v1/projects/:project/certificates", async (c) => {
    const project = parseParam(projectName, c.req.param("project"), "project");
    const certificates = await listCertificates({
      ctx: deps.services,
      principal: c.get("principal"),
      project,
    });
    return c.json({ certificates });
  });
}
