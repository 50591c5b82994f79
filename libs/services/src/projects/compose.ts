import { type ComposeApp, ComposeError, parseCompose } from "@edgeplane/compose";
import type { ProjectRow } from "@edgeplane/db";
import { badRequest } from "@edgeplane/domain";

/** A compose project's settings as they will be stored: checked together, whatever a PATCH changed. */
type ComposeSettings = Pick<
  ProjectRow,
  | "compose"
  | "primaryService"
  | "previewImages"
  | "memoryMb"
  | "cpuMillis"
  | "environmentMemoryMb"
  | "environmentCpuMillis"
>;

/** The compose file parsed; a 400 naming the key and the service when edgeplane cannot run it. */
export function parseProjectCompose(text: string): ComposeApp {
  try {
    return parseCompose(text);
  } catch (error) {
    if (error instanceof ComposeError) throw badRequest(`compose: ${error.message}`);
    throw error;
  }
}

/**
 * Checks the settings that depend on the compose file against it, and returns the parsed file to
 * store (null without one): the primary service and preview images name services of the file, the
 * primary has a port, each service's limits stay within the project's per-container ones and their
 * sum within the environment's.
 */
export function checkComposeSettings(settings: ComposeSettings): ComposeApp | null {
  if (settings.compose === null) {
    if (settings.primaryService !== null) throw badRequest("primaryService: the project has no compose file");
    if (settings.previewImages !== null) throw badRequest("previewImages: the project has no compose file");
    return null;
  }
  const app = parseProjectCompose(settings.compose);
  const byName = new Map(app.services.map((s) => [s.name, s]));
  const names = app.services.map((s) => s.name).join(", ");
  if (settings.primaryService !== null) {
    const primary = byName.get(settings.primaryService);
    if (!primary)
      throw badRequest(
        `primaryService: ${settings.primaryService} is not a service of the compose file (${names})`,
      );
    if (primary.port === null)
      throw badRequest(
        `primaryService: ${settings.primaryService} has no port (ports or expose) to route to`,
      );
  }
  for (const service of Object.keys(settings.previewImages ?? {})) {
    if (!byName.has(service))
      throw badRequest(`previewImages.${service}: not a service of the compose file (${names})`);
  }
  let memory = 0;
  let cpu = 0;
  for (const s of app.services) {
    const memoryMb = s.limits.memoryMb ?? settings.memoryMb;
    const cpuMillis = s.limits.cpuMillis ?? settings.cpuMillis;
    if (memoryMb > settings.memoryMb)
      throw badRequest(
        `compose: services.${s.name}.deploy.resources.limits.memory: ${memoryMb} MB is above the project's memoryMb (${settings.memoryMb})`,
      );
    if (cpuMillis > settings.cpuMillis)
      throw badRequest(
        `compose: services.${s.name}.deploy.resources.limits.cpus: ${cpuMillis / 1000} is above the project's cpuMillis (${settings.cpuMillis / 1000} CPUs)`,
      );
    memory += memoryMb;
    cpu += cpuMillis;
  }
  if (memory > settings.environmentMemoryMb)
    throw badRequest(
      `compose: the services' memory limits add up to ${memory} MB, above the project's environmentMemoryMb (${settings.environmentMemoryMb}); set deploy.resources.limits.memory per service or raise it`,
    );
  if (cpu > settings.environmentCpuMillis)
    throw badRequest(
      `compose: the services' CPU limits add up to ${cpu / 1000} CPUs, above the project's environmentCpuMillis (${settings.environmentCpuMillis / 1000}); set deploy.resources.limits.cpus per service or raise it`,
    );
  return app;
}
