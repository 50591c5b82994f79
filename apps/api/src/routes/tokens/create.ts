import { authorize, createToken, createTokenInput } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";
import { parseBody } from "../../validate.ts";

export function registerCreateToken(app: Hono<AppEnv>, deps: ApiDeps) {
  app.post("/v1/tokens", async (c) => {
    authorize(c.get("principal"), "admin");
    const input = await parseBody(c, createTokenInput);
    const { token, row, projectNames } = await createToken({ db: deps.services.db, input });
    // the only time the token is ever shown
    return c.json(
      {
        id: row.id,
        name: row.name,
        token,
        scopes: row.scopes,
        projects: projectNames,
        createdAt: row.createdAt,
      },
      201,
    );
  });
}
