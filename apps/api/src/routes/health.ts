import type { Hono } from "hono";
import type { ApiDeps, AppEnv } from "../context.ts";

export function registerHealth(app: Hono<AppEnv>, deps: ApiDeps) {
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", async (c) => {
    await deps.checkReady();
    return c.json({ ok: true });
  });
}
