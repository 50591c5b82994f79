import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type { EnvironmentView } from "@edgeplane/services";
import { apiJson, loadClientEnv } from "../api-client.ts";
import { projectOf, segment } from "../project.ts";

/** Where `name` is on PATH, if it is an executable there. */
async function onPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/** `edgeplane open ENV`: prints the URL; on a terminal with xdg-open, opens it in the browser too. */
export async function open(environment: string, options: { project?: string }): Promise<void> {
  const env = loadClientEnv();
  const project = await projectOf(env, options.project);
  const view = await apiJson<EnvironmentView>(
    env,
    `/v1/projects/${segment(project)}/environments/${segment(environment)}`,
    { hints: { 404: `\`edgeplane ls --project ${project}\` lists its environments` } },
  );
  process.stdout.write(`${view.url}\n`);
  if (view.status !== "ready") {
    process.stderr.write(`edgeplane: ${view.project}/${view.name} is ${view.status}, not ready\n`);
  }
  const opener = process.stdout.isTTY ? await onPath("xdg-open") : null;
  if (opener)
    spawn(opener, [view.url], { detached: true, stdio: "ignore" })
      .on("error", () => {})
      .unref();
}
