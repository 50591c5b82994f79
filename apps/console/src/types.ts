// The fields of the API's answers that the console reads. The schemas that define them live in
// @edgeplane/services (views.ts, auth/session.ts) and describe the OpenAPI document at
// /v1/openapi.json; the browser bundle does not import the server's code, so these name only what
// the pages show.

export type Scope = "admin" | "deploy" | "read";

export interface Me {
  tokenName: string;
  scopes: Scope[];
  projects: string[];
}

export interface Project {
  name: string;
  domain: string;
  repository: string | null;
}

export type EnvironmentStatus =
  | "pending"
  | "deploying"
  | "ready"
  | "failed"
  | "sleeping"
  | "destroying"
  | "destroyed";

export interface Environment {
  project: string;
  name: string;
  kind: "fixed" | "preview";
  status: EnvironmentStatus;
  url: string;
  image: string | null;
  digest: string | null;
  generation: number;
  deploymentId: string | null;
  services: Array<{ name: string; image: string; digest: string | null; status: string }> | null;
  pullRequest: { number: number; headSha: string | null; state: "open" | "closed" | null } | null;
  readyAt: string | null;
  destroyedAt: string | null;
  createdAt: string | null;
}

export const PHASES = ["queued", "staging", "starting", "routing", "ready", "failed", "superseded"] as const;
export type Phase = (typeof PHASES)[number];
export const TERMINAL_PHASES: readonly Phase[] = ["ready", "failed", "superseded"];

export interface Deployment {
  id: string;
  project: string;
  environment: string;
  image: string;
  digest: string | null;
  generation: number;
  status: Phase;
  statusDetail: string | null;
  error: string | null;
  phases: Record<Phase, string | null>;
  createdAt: string | null;
}

export interface DeploymentEvent {
  phase: Phase;
  message: string | null;
  at: string;
}
