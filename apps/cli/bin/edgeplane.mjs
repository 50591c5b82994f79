#!/usr/bin/env node
// `edgeplane` on PATH (npm links it into node_modules/.bin: `npx edgeplane …`): the compiled CLI
// (`npm run build:apps`), as `npm start` runs it.
process.setSourceMapsEnabled(true);
await import("../dist/main.js");
