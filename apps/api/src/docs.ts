import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ApiApp } from "./context.ts";
import { DOCUMENT_PATH } from "./routes/openapi/document.ts";

export const DOCS_PATH = "/docs";

/** Swagger UI's files, served from the installed package: the page works offline, with no CDN. */
const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const ASSETS = new Map([
  ["swagger-ui.css", "text/css; charset=utf-8"],
  ["swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
  ["favicon-32x32.png", "image/png"],
]);

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>edgeplane API</title>
    <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATH}/init.js"></script>
  </body>
</html>
`;

// validatorUrl: null keeps Swagger UI from sending the document to its public validator
const INIT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(DOCUMENT_PATH)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
`;

/**
 * GET /docs: the OpenAPI document rendered by Swagger UI, every script and style served from here.
 * No token, like the document it renders; trying a call asks for a token through "Authorize".
 */
export function registerDocs(app: ApiApp): void {
  const cache = new Map<string, Buffer>();
  app.get(DOCS_PATH, (c) => c.html(PAGE));
  app.get(`${DOCS_PATH}/init.js`, (c) =>
    c.body(INIT, 200, { "content-type": "text/javascript; charset=utf-8" }),
  );
  app.get(`${DOCS_PATH}/:asset`, async (c, next) => {
    const file = c.req.param("asset");
    const type = ASSETS.get(file);
    if (!type) return next();
    let bytes = cache.get(file);
    if (!bytes) {
      bytes = await readFile(join(SWAGGER_UI, file));
      cache.set(file, bytes);
    }
    return c.body(new Uint8Array(bytes), 200, {
      "content-type": type,
      "cache-control": "public, max-age=3600",
    });
  });
}
