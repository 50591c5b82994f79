import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The console is bundled into dist/ at install time (`npm ci` runs the root `prepare`, which runs
// `npm run build`) and served by the API at / and /assets/*, under a CSP of `default-src 'self'`: so
// nothing may be inlined (no data: URIs, no inline scripts) and nothing comes from elsewhere.
// `npm run dev --workspace apps/console` serves it with hot reload, forwarding API calls to the API.
const api = process.env.EDGEPLANE_API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: { "/v1": api, "/console": api },
  },
});
