import type { EnvironmentView } from "@edgeplane/services";
import { apiRequest, loadClientEnv } from "../api-client.ts";
import { projectOf, segment } from "../project.ts";

/** `edgeplane destroy ENV`: records the teardown; the environment's container and route go soon after. */
export async function destroy(environment: string, options: { project?: string }): Promise<void> {
  const env = loadClientEnv();
  const project = await projectOf(env, options.project);
  const response = await apiRequest(
    env,
    "DELETE",
    `/v1/projects/${segment(project)}/environments/${segment(environment)}`,
    undefined,
    {
      hints: {
        403: `destroying needs a token with the deploy scope granted project ${project}: set EDGEPLANE_TOKEN (or --token) to one`,
        404: `\`edgeplane ls --project ${project}\` lists its environments`,
      },
    },
  );
  const view = (await response.json()) as EnvironmentView;
  process.stdout.write(`${view.project}/${view.name} ${view.status}\n`);
  process.stderr.write(
    `edgeplane: its container and route are removed shortly; \`edgeplane ls --project ${view.project}\` no longer lists it then\n`,
  );
}
