import { apiGet, loadClientEnv } from "../api-client.ts";
import { projectOf, segment } from "../project.ts";
import { UsageError } from "./hosts.ts";

export interface LogsOptions {
  project?: string;
  follow: boolean;
  tail: string;
  service?: string;
}

/** `edgeplane logs ENV`: the environment's container output, streamed to stdout (`-f` until Ctrl-C or it stops). */
export async function logs(environment: string, options: LogsOptions): Promise<void> {
  const tail = Number(options.tail);
  if (!Number.isInteger(tail) || tail < 0 || tail > 10_000) {
    throw new UsageError(`--tail takes a number of lines from 0 to 10000, got '${options.tail}'`);
  }
  const env = loadClientEnv();
  const project = await projectOf(env, options.project);
  const query = new URLSearchParams({ tail: String(tail), ...(options.follow ? { follow: "1" } : {}) });
  if (options.service) query.set("service", options.service);
  const where = `--project ${project}`;
  const response = await apiGet(
    env,
    `/v1/projects/${segment(project)}/environments/${segment(environment)}/logs?${query}`,
    {
      hints: {
        404: `\`edgeplane ls ${where}\` lists its environments`,
        409: `\`edgeplane status ${environment} ${where}\` shows why; \`edgeplane deploy ${where} --env ${environment} --image REF\` starts one`,
      },
    },
  );
  for await (const chunk of response.body ?? []) process.stdout.write(chunk);
}
