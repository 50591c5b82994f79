import type { ComposeApp } from "@edgeplane/compose";
import type { ProjectRow } from "@edgeplane/db";
import { badRequest, type DesiredServices } from "@edgeplane/domain";

/** The project's compose file as stored when it was set (parsed and checked); null without one. */
export function composeAppOf(project: Pick<ProjectRow, "composeSpec">): ComposeApp | null {
  return (project.composeSpec as ComposeApp | null) ?? null;
}

/** The service at `{env}.{domain}`: the one set, else the first with a port; null if none has one. */
export function primaryServiceOf(
  project: Pick<ProjectRow, "primaryService">,
  app: ComposeApp,
): string | null {
  return project.primaryService ?? app.primaryService;
}

/** What a deploy request says of a compose project's services. */
export interface ServicesRequest {
  /** The primary service's image (the one-image form of a request). */
  image?: string | undefined;
  images?: Record<string, string> | undefined;
  env?: Record<string, Record<string, string>> | undefined;
}

/**
 * Each service's image and values for one deploy: named in the request, else (the primary) the
 * request's `image`, else the compose file's. A request naming a service the file lacks, or a
 * service left without an image, is a 400 naming it.
 */
export function planServices(
  project: Pick<ProjectRow, "name" | "primaryService">,
  app: ComposeApp,
  request: ServicesRequest,
): { services: DesiredServices; primaryImage: string } {
  const names = app.services.map((s) => s.name);
  const primary = primaryServiceOf(project, app);
  for (const [field, map] of [
    ["images", request.images],
    ["env", request.env],
  ] as const) {
    for (const name of Object.keys(map ?? {})) {
      if (!names.includes(name))
        throw badRequest(
          `${field}.${name}: project ${project.name}'s compose file has no such service (${names.join(", ")})`,
        );
    }
  }
  if (request.image !== undefined && primary === null)
    throw badRequest(
      `image: project ${project.name}'s services have no primary service (none has a port): use images`,
    );
  const services: DesiredServices = {};
  for (const s of app.services) {
    const image = request.images?.[s.name] ?? (s.name === primary ? request.image : undefined) ?? s.image;
    if (!image)
      throw badRequest(`images.${s.name}: required: the compose file gives service ${s.name} no image`);
    services[s.name] = { image, digest: null, env: request.env?.[s.name] ?? {} };
  }
  const first = app.services[0]?.name ?? "";
  return { services, primaryImage: services[primary ?? first]?.image ?? "" };
}
