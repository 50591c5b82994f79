import { ENVIRONMENT_STATUSES } from "@edgeplane/domain";
import { listAllEnvironments } from "@edgeplane/services";
import type { Hono } from "hono";
import { z } from "zod";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseParam } from "../../validate.ts";

/** Environments of every project the token may read: `?status=ready` is what hosts-file lines need. */
export function registerListAllEnvironments(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/v1/environments", async (c) => {
    const raw = c.req.query("status");
    const status = raw === undefined ? undefined : parseParam(z.enum(ENVIRONMENT_STATUSES), raw, "status");
    const rows = await listAllEnvironments({
      ctx: deps.services,
      principal: c.get("principal"),
      ...(status ? { status } : {}),
    });
    return c.json({ environments: rows });
  });
}
