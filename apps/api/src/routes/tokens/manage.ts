import { idSchema } from "@edgeplane/domain";
import { authorize, listTokens, revokeToken } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseParam } from "../../validate.ts";

export function registerManageTokens(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/v1/tokens", async (c) => {
    authorize(c.get("principal"), "admin");
    const rows = await listTokens(deps.services.db);
    return c.json({
      tokens: rows.map((t) => ({
        id: t.id,
        name: t.name,
        scopes: t.scopes,
        projects: t.projectNames,
        createdAt: t.createdAt,
        revokedAt: t.revokedAt,
      })),
    });
  });
  app.delete("/v1/tokens/:id", async (c) => {
    authorize(c.get("principal"), "admin");
    const id = parseParam(idSchema("token"), c.req.param("id"), "id");
    const row = await revokeToken(deps.services.db, id);
    return c.json({ id: row.id, name: row.name, revokedAt: row.revokedAt });
  });
}
