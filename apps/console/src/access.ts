import type { Me } from "./types.ts";

/** Whether the signed-in token may deploy to and destroy in `project` (the API checks it again). */
export function canDeploy(me: Me, project: string): boolean {
  if (me.scopes.includes("admin")) return true;
  return me.scopes.includes("deploy") && me.projects.includes(project);
}
