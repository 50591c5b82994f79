// Compiles each app (API, workers, CLI) into one JavaScript file with a source map: apps/<app>/dist/main.js.
// Our own TypeScript (the apps and every workspace lib) is bundled, with the plain JavaScript
// packages listed in BUNDLED; the others stay external and load from node_modules as usual.
// Run with `node --enable-source-maps`, stack traces name .ts lines.
import { readdir, readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
// Pure JavaScript packages that every process loads at start and that read no files of their own
// at run time are bundled too: a process then compiles one file instead of resolving, reading and
// (CommonJS from ES modules) lexing hundreds, most of its start-up time.
const BUNDLED = new Set(["zod", "drizzle-orm", "postgres", "commander", "yaml", "@octokit/webhooks-methods"]);
const external = [
  ...Object.keys(pkg.dependencies ?? {}).filter((name) => !BUNDLED.has(name)),
  ...Object.keys(pkg.devDependencies ?? {}),
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
].flatMap((name) => [name, `${name}/*`]);

const apps = (await readdir(join(root, "apps"), { withFileTypes: true }))
  .filter((d) => d.isDirectory() && d.name !== "console")
  .map((d) => d.name);
const started = Date.now();
await Promise.all(
  apps.map((app) =>
    build({
      entryPoints: [join(root, "apps", app, "src", "main.ts")],
      outfile: join(root, "apps", app, "dist", "main.js"),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: true,
      // stack traces need the mappings, not the sources: a smaller map to parse and hold at start
      sourcesContent: false,
      external,
      // bundled CommonJS helpers need require in an ES module
      banner: {
        js: "import { createRequire as __edgeplaneRequire } from 'node:module'; const require = __edgeplaneRequire(import.meta.url);",
      },
      logLevel: "warning",
    }),
  ),
);
process.stdout.write(`[build] ${apps.length} apps compiled in ${Date.now() - started} ms\n`);
