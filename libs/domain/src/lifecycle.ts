/**
 * The lifecycles of deployments and environments, and the token scopes: the one home of these
 * names and of their groupings, imported by the schema, the pipeline steps and the pages.
 */

/** A deployment moves `queued → staging → starting → routing → ready`, or ends `failed` or `superseded`. */
export const DEPLOYMENT_PHASES = [
  "queued",
  "staging",
  "starting",
  "routing",
  "ready",
  "failed",
  "superseded",
] as const;
export type DeploymentPhase = (typeof DEPLOYMENT_PHASES)[number];

/** Phases a deployment is still moving through. */
export const UNFINISHED_PHASES = [
  "queued",
  "staging",
  "starting",
  "routing",
] as const satisfies readonly DeploymentPhase[];
export type UnfinishedPhase = (typeof UNFINISHED_PHASES)[number];

/** Phases a deployment never leaves (but a retried `failed` one that is still current may reopen). */
export const TERMINAL_PHASES = [
  "ready",
  "failed",
  "superseded",
] as const satisfies readonly DeploymentPhase[];
export type TerminalPhase = (typeof TERMINAL_PHASES)[number];

export function isTerminalPhase(phase: DeploymentPhase): phase is TerminalPhase {
  return (TERMINAL_PHASES as readonly DeploymentPhase[]).includes(phase);
}

export function isUnfinishedPhase(phase: string): phase is UnfinishedPhase {
  return (UNFINISHED_PHASES as readonly string[]).includes(phase);
}

export const ENVIRONMENT_STATUSES = [
  "pending",
  "deploying",
  "ready",
  "failed",
  "sleeping",
  "waking",
  "destroying",
  "destroyed",
] as const;
export type EnvironmentStatus = (typeof ENVIRONMENT_STATUSES)[number];

/** Statuses of an environment on its way out or gone: nothing is routed to it or started for it. */
export const GONE_STATUSES = ["destroying", "destroyed"] as const satisfies readonly EnvironmentStatus[];

export function isGone(status: EnvironmentStatus): boolean {
  return (GONE_STATUSES as readonly EnvironmentStatus[]).includes(status);
}

export const ENVIRONMENT_KINDS = ["fixed", "preview"] as const;
export type EnvironmentKind = (typeof ENVIRONMENT_KINDS)[number];

export const TOKEN_SCOPES = ["admin", "deploy", "read"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
