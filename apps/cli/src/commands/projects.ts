import { readFile } from "node:fs/promises";
import { apiRequest, loadClientEnv } from "../api-client.ts";
import { UsageError } from "./hosts.ts";

export const PROJECTS_USAGE = `usage: edgeplane projects <set-compose|unset-compose>

  projects set-compose PROJECT FILE   give the project a docker-compose file: each environment
                                      runs its services (refused, naming the key, if it cannot)
  projects unset-compose PROJECT      back to one container per environment
Environment: EDGEPLANE_API_URL, EDGEPLANE_TOKEN (else the admin token in EDGEPLANE_STATE_DIR).
Changing a project needs the admin token or a token with the admin scope.
`;

interface ProjectView {
  name: string;
  compose: { primaryService: string | null; services: Array<{ name: string; port: number | null }> } | null;
}

/** `edgeplane projects …`: a project's compose file, through the API. */
export async function projects(args: string[]): Promise<void> {
  const [sub, project, file, ...extra] = args;
  if (sub !== "set-compose" && sub !== "unset-compose")
    throw new UsageError(sub ? `unknown projects command '${sub}'` : "missing projects command");
  if (!project) throw new UsageError(`${sub}: missing PROJECT`);
  if (sub === "set-compose" && !file) throw new UsageError("set-compose: missing FILE");
  if (extra.length > 0 || (sub === "unset-compose" && file))
    throw new UsageError(`${sub}: too many arguments`);
  let compose: string | null = null;
  if (sub === "set-compose" && file) {
    try {
      compose = await readFile(file, "utf8");
    } catch (error) {
      throw new Error(
        `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  const env = loadClientEnv();
  const response = await apiRequest(env, "PATCH", `/v1/projects/${encodeURIComponent(project)}`, {
    compose,
    ...(compose === null ? { primaryService: null, previewImages: null } : {}),
  });
  const view = (await response.json()) as ProjectView;
  if (!view.compose) {
    process.stdout.write(`${view.name}: one container per environment\n`);
    return;
  }
  const primary = view.compose.primaryService;
  const lines = view.compose.services.map(
    (s) =>
      `  ${s.name}${s.port === null ? " (private)" : ` :${s.port}`}${s.name === primary ? " (primary: {env}.domain)" : ""}`,
  );
  process.stdout.write(`${view.name}: ${view.compose.services.length} services\n${lines.join("\n")}\n`);
}
