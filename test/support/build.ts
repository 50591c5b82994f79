import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * vitest's global setup: the e2e tests start edgeplane as a user does, from its compiled apps, so
 * they are compiled from the sources under test first (about a second).
 */
export default function setup(): void {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "inherit" });
}
