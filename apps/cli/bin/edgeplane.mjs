#!/usr/bin/env node
// `edgeplane` on PATH (npm links it into node_modules/.bin: `npx edgeplane …`): the CLI's TypeScript
// source run through tsx, as `npm start` runs it.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
