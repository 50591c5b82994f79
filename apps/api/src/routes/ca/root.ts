import { authorize, localCaRoot } from "@edgeplane/services";
import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../../context.ts";

/** The local CA's root certificate (never its key), created on first use: what to trust for `local` TLS. */
export function registerCaRoot(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/v1/ca/root", async (c) => {
    authorize(c.get("principal"), "read");
    const pem = await localCaRoot(deps.services.db);
    c.header("content-type", "application/x-pem-file");
    return c.body(pem, 200);
  });
}
