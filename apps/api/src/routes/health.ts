import type { ApiApp, ApiDeps } from "../context.ts";

export function registerHealth(app: ApiApp, deps: ApiDeps) {
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", async (c) => {
    await deps.checkReady();
    return c.json({ ok: true });
  });
}
