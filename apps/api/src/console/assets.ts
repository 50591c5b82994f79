import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DomainError } from "@edgeplane/domain";
import { serveStatic } from "@hono/node-server/serve-static";
import type { MiddlewareHandler } from "hono";
import type { ApiApp } from "../context.ts";

/** Where `npm run build` (run by `npm ci`) bundles the console: apps/console/dist. */
export const CONSOLE_DIST = join(
  dirname(createRequire(import.meta.url).resolve("@edgeplane/app-console/package.json")),
  "dist",
);

/**
 * The console's pages load only what this server serves: no inline script or style, nothing from
 * elsewhere, no framing, no forms posting away.
 */
export const CONSOLE_CSP =
  "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

const HEADERS = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/**
 * GET / (the console's page; its routes live in the URL's fragment, so no other path needs it) and
 * GET /assets/* (bundled scripts, styles and images, named by their content's hash: cached for good).
 * Content types come from the file names; an unknown asset is the app's 404.
 */
export function registerConsoleAssets(app: ApiApp, dist = CONSOLE_DIST): void {
  let files: MiddlewareHandler | undefined;
  const serve =
    (cacheControl: string): MiddlewareHandler =>
    async (c, next) => {
      // looked up until found: a console built while the API runs is served without a restart
      if (!files && existsSync(join(dist, "index.html"))) files = serveStatic({ root: dist });
      if (!files) {
        throw new DomainError("unavailable", "the web console is not built: run `npm run build`");
      }
      const res = await files(c, next);
      // not a file of the bundle: serveStatic went on to the app's 404
      if (!(res instanceof Response)) return;
      for (const [name, value] of Object.entries({ ...HEADERS, "cache-control": cacheControl })) {
        res.headers.set(name, value);
      }
      return res;
    };
  app.get("/", serve("no-cache"));
  app.get("/assets/*", serve("public, max-age=31536000, immutable"));
}
