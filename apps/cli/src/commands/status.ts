import type { DeploymentDetail, EnvironmentView } from "@edgeplane/services";
import { apiJson, loadClientEnv } from "../api-client.ts";
import { age, fields, seconds, table } from "../output.ts";
import { projectOf, segment } from "../project.ts";

export interface StatusOptions {
  project?: string;
  json: boolean;
}

/** `edgeplane status dep_…` shows a deployment with its events; `edgeplane status ENV` an environment. */
export async function status(target: string, options: StatusOptions): Promise<void> {
  const env = loadClientEnv();
  if (target.startsWith("dep_")) {
    const deployment = await apiJson<DeploymentDetail>(env, `/v1/deployments/${segment(target)}`, {
      hints: { 404: "deployment ids are shown by `edgeplane deploy --no-wait` and `edgeplane status ENV`" },
    });
    process.stdout.write(options.json ? `${JSON.stringify(deployment)}\n` : showDeployment(deployment));
    return;
  }
  const project = await projectOf(env, options.project);
  const environment = await apiJson<EnvironmentView>(
    env,
    `/v1/projects/${segment(project)}/environments/${segment(target)}`,
    { hints: { 404: `\`edgeplane ls --project ${project}\` lists its environments` } },
  );
  const deployment = environment.deploymentId
    ? await apiJson<DeploymentDetail>(env, `/v1/deployments/${segment(environment.deploymentId)}`)
    : null;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...environment, deployment })}\n`);
    return;
  }
  process.stdout.write(showEnvironment(environment, deployment));
}

export function showDeployment(d: DeploymentDetail): string {
  const queued = Date.parse(d.phases.queued ?? d.createdAt ?? "");
  const events = d.events.map((e) => [
    `  ${e.phase}`,
    `+${seconds(Date.parse(e.at) - queued)}`,
    e.message ?? "",
  ]);
  return (
    `${d.id}  ${d.project}/${d.environment}  ${d.status}\n` +
    fields([
      ["url", d.url],
      ["image", d.image],
      ["digest", d.digest],
      ["waiting", d.statusDetail],
      ["error", d.error],
      ["created", d.createdAt ? `${d.createdAt} (${age(d.createdAt)} ago)` : null],
    ]) +
    (d.services
      ? `services:\n${table(d.services.map((s) => [`  ${s.name}`, s.image, s.url ?? "(private)"]))}`
      : "") +
    `events:\n${table(events)}` +
    (d.status === "failed"
      ? `next: \`edgeplane logs ${d.environment} --project ${d.project}\` shows the container's output; fix the cause and deploy again\n`
      : "")
  );
}

export function showEnvironment(e: EnvironmentView, d: DeploymentDetail | null): string {
  return (
    `${e.project}/${e.name}  ${e.status}\n` +
    fields([
      ["url", e.url],
      ["kind", e.kind],
      ["image", e.image],
      ["digest", e.digest],
      ["deployment", d ? `${d.id} ${d.status}${d.error ? `: ${d.error}` : ""}` : null],
      [
        "pull request",
        e.pullRequest
          ? `#${e.pullRequest.number}${e.pullRequest.state ? ` (${e.pullRequest.state})` : ""}`
          : null,
      ],
      ["ready", e.readyAt ? `${e.readyAt} (${age(e.readyAt)} ago)` : null],
      ["created", e.createdAt ? `${e.createdAt} (${age(e.createdAt)} ago)` : null],
    ]) +
    (e.services
      ? `services:\n${table(e.services.map((s) => [`  ${s.name}`, s.status, s.image, s.url ?? "(private)"]))}`
      : "") +
    (d ? `events: \`edgeplane status ${d.id}\`\n` : "")
  );
}
