import type { ProjectView } from "@edgeplane/services";
import { apiJson, loadClientEnv } from "../api-client.ts";
import { fields, table } from "../output.ts";
import { segment } from "../project.ts";

/** `edgeplane projects ls`: the projects the token can see. */
export async function listProjects(options: { json: boolean }): Promise<void> {
  const { projects } = await apiJson<{ projects: ProjectView[] }>(loadClientEnv(), "/v1/projects");
  if (options.json) {
    process.stdout.write(`${JSON.stringify(projects)}\n`);
    return;
  }
  if (projects.length === 0) {
    process.stderr.write(
      "edgeplane: no projects your token can see; an admin creates one with POST /v1/projects\n",
    );
    return;
  }
  const rows = projects.map((p) => [
    p.name,
    p.domain,
    String(p.port),
    p.repository ?? "-",
    p.compose ? p.compose.services.map((s) => s.name).join(",") : "-",
  ]);
  process.stdout.write(table([["NAME", "DOMAIN", "PORT", "REPOSITORY", "SERVICES"], ...rows]));
}

/** `edgeplane projects show NAME`: one project's settings (secrets only as whether they are set). */
export async function showProject(name: string, options: { json: boolean }): Promise<void> {
  const project = await apiJson<ProjectView>(loadClientEnv(), `/v1/projects/${segment(name)}`, {
    hints: { 404: "`edgeplane projects ls` lists the projects your token can see" },
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(project)}\n`);
    return;
  }
  process.stdout.write(
    `${project.name}\n` +
      fields([
        ["domain", project.domain],
        ["port", project.port],
        ["health check", project.healthcheckPath],
        ["repository", project.repository],
        ["webhook secret", project.webhookSecretSet ? "set" : null],
        ["preview image", project.previewImage],
        ["preview TTL", `${project.previewTtlHours}h`],
        ["allowed images", project.allowedImages.length ? project.allowedImages.join(", ") : null],
        ["env", project.env.length ? project.env.join(", ") : null],
        ["limits", `${project.memoryMb} MB, ${project.cpuMillis} mCPU per container`],
        ["max environments", project.maxEnvironments],
        ["TLS", typeof project.tls.mode === "string" ? project.tls.mode : null],
        ["created", project.createdAt],
      ]) +
      (project.compose
        ? `services:\n${table(
            project.compose.services.map((s) => [
              `  ${s.name}`,
              s.image ?? "-",
              s.port === null ? "(private)" : `:${s.port}`,
              s.name === project.compose?.primaryService ? "primary" : "",
            ]),
          )}`
        : ""),
  );
}
