// Compiles each app (API, workers, CLI) into one JavaScript file with a source map: apps/<app>/dist/main.js
// (the CLI's commands in chunks beside it).
// Our own TypeScript (the apps and every workspace lib) is bundled, with the plain JavaScript
// packages listed in BUNDLED; the others stay external and load from node_modules as usual.
// Run with `node --enable-source-maps`, stack traces name .ts lines.
// Skipped when nothing it reads changed since the last build (a hash of every input, kept beside each
// output): `npm start` then pays no build. `--force` builds anyway.
import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
// Pure JavaScript packages that every process loads at start and that read no files of their own
// at run time are bundled too: a process then compiles one file instead of resolving, reading and
// (CommonJS from ES modules) lexing hundreds, most of its start-up time. bullmq carries its Lua and
// SQL scripts as strings; its optional backends' clients (pg, valkey-glide) stay unresolved requires.
const BUNDLED = new Set([
  "zod",
  "drizzle-orm",
  "postgres",
  "commander",
  "yaml",
  "@octokit/webhooks-methods",
  "bullmq",
  "ioredis",
]);
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

/** Every file a build reads: our sources, the manifests, the lockfile (bundled packages), this script. */
async function inputs() {
  const files = ["package.json", "package-lock.json", "tsconfig.json", "scripts/build.mjs"];
  const walk = async (dir) => {
    const entries = await readdir(join(root, dir), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else files.push(path);
    }
  };
  for (const area of ["apps", "libs"]) {
    for (const entry of await readdir(join(root, area), { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === "console") continue;
      files.push(`${area}/${entry.name}/package.json`);
      await walk(`${area}/${entry.name}/src`);
    }
  }
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(root, file)).catch(() => ""));
    hash.update("\0");
  }
  return hash.digest("hex");
}

const stamp = (app) => join(root, "apps", app, "dist", ".inputs");
const digest = await inputs();
const built = await Promise.all(
  apps.map(async (app) => {
    const [recorded, output] = await Promise.all([
      readFile(stamp(app), "utf8").catch(() => null),
      stat(join(root, "apps", app, "dist", "main.js")).then(
        () => true,
        () => false,
      ),
    ]);
    return recorded === digest && output;
  }),
);
if (!process.argv.includes("--force") && built.every(Boolean)) {
  process.stdout.write(`[build] ${apps.length} apps up to date (${Date.now() - started} ms)\n`);
  process.exit(0);
}
// loaded only when there is something to build: the up-to-date check above is on `npm start`'s path
const { build } = await import("esbuild");
await Promise.all(
  apps.map(async (app) => {
    const dist = join(root, "apps", app, "dist");
    // the CLI is split at its dynamic imports: a command loads its own modules (`up` the queue
    // client, say) when it runs, not every time the CLI starts. The old chunks go first.
    const split = app === "cli";
    if (split) await rm(join(dist, "chunks"), { recursive: true, force: true });
    await build({
      entryPoints: [join(root, "apps", app, "src", "main.ts")],
      ...(split
        ? { outdir: dist, splitting: true, chunkNames: "chunks/[name]-[hash]" }
        : { outfile: join(dist, "main.js") }),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: true,
      // stack traces need the mappings, not the sources: a smaller map to parse and hold at start
      sourcesContent: false,
      // V8 holds each script's source for as long as the process runs (it compiles functions lazily):
      // no comments or whitespace (the comments' non-ASCII made the API's source a 3.2 MiB two-byte
      // string, 1.2 MiB now). Names are kept, so stack traces name functions as written.
      minifyWhitespace: true,
      minifySyntax: true,
      external,
      // bundled CommonJS helpers need require in an ES module
      banner: {
        js: "import { createRequire as __edgeplaneRequire } from 'node:module'; const require = __edgeplaneRequire(import.meta.url);",
      },
      logLevel: "warning",
    });
  }),
);
await Promise.all(apps.map((app) => writeFile(stamp(app), digest)));
process.stdout.write(`[build] ${apps.length} apps compiled in ${Date.now() - started} ms\n`);
