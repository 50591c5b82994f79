import { authorize, listTokens, revokeToken } from "@edgeplane/services";
import type { Hono } from "hono";
import { z } from "zod";
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
    const id = parseParam(z.string().regex(/^tok_[0-9a-f]+$/, "not a token id"), c.req.param("id"), "id");
    const row = await revokeToken(deps.services.db, id);
    return c.json({ id: row.id, name: row.name, revokedAt: row.revokedAt });
  });
}
