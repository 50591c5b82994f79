import type { ProjectView } from "@edgeplane/services";
import { apiJson, type ClientEnv } from "./api-client.ts";
import { UsageError } from "./commands/hosts.ts";

/**
 * The project a command acts on: `--project`, else EDGEPLANE_PROJECT, else the only project the
 * token can see; with several and none named, a usage error listing them.
 */
export async function projectOf(env: ClientEnv, given: string | undefined): Promise<string> {
  const named = given ?? process.env.EDGEPLANE_PROJECT;
  if (named) return named;
  const { projects } = await apiJson<{ projects: ProjectView[] }>(env, "/v1/projects");
  const [only, ...others] = projects;
  if (only && others.length === 0) return only.name;
  throw new UsageError(
    projects.length === 0
      ? "--project is required, and your token can see no project: an admin creates one with POST /v1/projects"
      : `--project is required (or EDGEPLANE_PROJECT): one of ${projects.map((p) => p.name).join(", ")}`,
  );
}

/** An API path segment. */
export const segment = (value: string) => encodeURIComponent(value);
