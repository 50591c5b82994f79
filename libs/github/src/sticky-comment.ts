import type { DeploymentStatusState } from "./deployment-state.ts";

/** Hidden marker that identifies edgeplane's one comment on a pull request. */
export const STICKY_MARKER = "<!-- edgeplane:preview -->";

export interface StickyCommentInput {
  environment: string;
  url: string | null;
  state: DeploymentStatusState;
  sha: string;
  updatedAt: Date;
}

const STATE_LABELS: Record<DeploymentStatusState, string> = {
  in_progress: "🚧 Deploying",
  success: "✅ Ready",
  failure: "❌ Failed",
  inactive: "💤 Torn down",
};

function cell(value: string): string {
  return value.replace(/[\r\n]+/g, " ").replace(/\|/g, "\\|");
}

/** The body of the sticky preview comment: the marker, then a one-row table. */
export function renderStickyComment(input: StickyCommentInput): string {
  const updated = `${input.updatedAt.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  const url = input.url === null ? "—" : cell(input.url);
  return [
    STICKY_MARKER,
    "**edgeplane preview**",
    "",
    "| Environment | State | URL | Commit | Updated |",
    "| --- | --- | --- | --- | --- |",
    `| \`${cell(input.environment)}\` | ${STATE_LABELS[input.state]} | ${url} | \`${cell(input.sha.slice(0, 7))}\` | ${updated} |`,
    "",
  ].join("\n");
}
