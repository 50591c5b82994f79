/** The states of a GitHub deployment status that edgeplane reports. */
export type DeploymentStatusState = "in_progress" | "success" | "failure" | "inactive";
