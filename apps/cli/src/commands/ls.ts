import type { EnvironmentView } from "@edgeplane/services";
import { apiJson, loadClientEnv } from "../api-client.ts";
import { age, table } from "../output.ts";
import { segment } from "../project.ts";

export interface LsOptions {
  project?: string;
  json: boolean;
}

/** `edgeplane ls`: environments (of one project, or of every project the token can read) as a table. */
export async function ls(options: LsOptions): Promise<void> {
  const env = loadClientEnv();
  const project = options.project ?? process.env.EDGEPLANE_PROJECT;
  const { environments } = await apiJson<{ environments: EnvironmentView[] }>(
    env,
    project ? `/v1/projects/${segment(project)}/environments` : "/v1/environments",
    { hints: { 404: "`edgeplane projects ls` lists the projects your token can see" } },
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(environments)}\n`);
    return;
  }
  if (environments.length === 0) {
    process.stderr.write(
      `edgeplane: no environments${project ? ` in ${project}` : ""}; \`edgeplane deploy --project P --env E --image REF\` makes one\n`,
    );
    return;
  }
  const rows = [...environments]
    .sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name))
    .map((e) => [e.project, e.name, e.status, e.url, e.image ?? "-", age(e.createdAt)]);
  process.stdout.write(table([["PROJECT", "ENV", "STATUS", "URL", "IMAGE", "AGE"], ...rows]));
}
