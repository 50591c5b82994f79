import type { PullRequestEvent } from "./payloads.ts";
import { renderPreviewImage } from "./preview-image.ts";

export interface PreviewSettings {
  /** Deploy draft pull requests too. */
  deployDrafts: boolean;
  /** Only pull requests carrying this label get a preview; null means every pull request. */
  requiredLabel: string | null;
  /** Deploy pull requests whose head lives in another repository. */
  allowForks: boolean;
  /** Image template (see renderPreviewImage); null means CI announces the image later. */
  previewImage: string | null;
  /** Image templates per compose service; services not named run their compose file's image. */
  previewImages?: Record<string, string> | null;
}

const ENSURE_ACTIONS = ["opened", "reopened", "synchronize", "ready_for_review", "labeled"] as const;
export type EnsureTrigger = (typeof ENSURE_ACTIONS)[number];

export type SkipReason = "unsupported-action" | "fork" | "draft" | "missing-label" | "unrelated-label";

export type PullRequestDecision =
  | {
      action: "ensure";
      environment: string;
      /** What to deploy now; null when there is no image template and CI will request the deploy. */
      deploy: { image?: string; images?: Record<string, string> } | null;
      reason: EnsureTrigger;
    }
  | { action: "teardown"; environment: string; reason: "closed" | "label-removed" | "converted-to-draft" }
  | { action: "skip"; reason: SkipReason };

export function environmentNameFor(pullRequestNumber: number): string {
  return `pr-${pullRequestNumber}`;
}

/**
 * A fork is any head that does not live in the base repository, including a head whose repository
 * has been deleted (`head.repo` null). Names are compared case-insensitively, as GitHub does.
 */
export function isFork(event: PullRequestEvent): boolean {
  const head = event.pull_request.head.repo;
  if (head === null) return true;
  return head.full_name.toLowerCase() !== event.pull_request.base.repo.full_name.toLowerCase();
}

function isEnsureTrigger(action: string): action is EnsureTrigger {
  return (ENSURE_ACTIONS as readonly string[]).includes(action);
}

/**
 * What a pull_request event means for its preview environment. Closing always tears down (whatever
 * the settings, so a preview never outlives its pull request); so does a pull request leaving what the
 * settings deploy (its required label removed, or converted back to a draft when drafts are not
 * deployed). The ensure triggers deploy when the settings allow; everything else is skipped.
 * `labeled` and `unlabeled` only matter for the required label: any other label changes nothing.
 */
export function decidePullRequest(event: PullRequestEvent, settings: PreviewSettings): PullRequestDecision {
  const pr = event.pull_request;
  const environment = environmentNameFor(pr.number);
  if (event.action === "closed") return { action: "teardown", environment, reason: "closed" };
  if (
    event.action === "unlabeled" &&
    settings.requiredLabel !== null &&
    event.label?.name === settings.requiredLabel
  ) {
    return { action: "teardown", environment, reason: "label-removed" };
  }
  if (event.action === "converted_to_draft" && !settings.deployDrafts) {
    return { action: "teardown", environment, reason: "converted-to-draft" };
  }
  if (!isEnsureTrigger(event.action)) return { action: "skip", reason: "unsupported-action" };
  if (!settings.allowForks && isFork(event)) return { action: "skip", reason: "fork" };
  if (pr.draft && !settings.deployDrafts) return { action: "skip", reason: "draft" };
  if (settings.requiredLabel !== null) {
    if (!pr.labels.some((label) => label.name === settings.requiredLabel)) {
      return { action: "skip", reason: "missing-label" };
    }
  }
  if (event.action === "labeled" && event.label && event.label.name !== settings.requiredLabel) {
    return { action: "skip", reason: "unrelated-label" };
  }
  const vars = { number: pr.number, sha: pr.head.sha, branch: pr.head.ref };
  const templates = settings.previewImages ?? null;
  const deploy =
    settings.previewImage === null && templates === null
      ? null
      : {
          ...(settings.previewImage === null
            ? {}
            : { image: renderPreviewImage(settings.previewImage, vars) }),
          ...(templates === null
            ? {}
            : {
                images: Object.fromEntries(
                  Object.entries(templates).map(([service, t]) => [service, renderPreviewImage(t, vars)]),
                ),
              }),
        };
  return { action: "ensure", environment, deploy, reason: event.action };
}
