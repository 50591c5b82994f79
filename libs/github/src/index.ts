export type { DeploymentStatusState } from "./deployment-state.ts";
export { isStale, type PullRequestSeen, seenFrom } from "./ordering.ts";
export {
  type GithubEvent,
  type PingEvent,
  type PullRequestEvent,
  parseGithubEvent,
  pingEventSchema,
  pullRequestEventSchema,
  WebhookPayloadError,
} from "./payloads.ts";
export {
  decidePullRequest,
  type EnsureTrigger,
  environmentNameFor,
  isFork,
  type PreviewSettings,
  type PullRequestDecision,
  type SkipReason,
} from "./policy.ts";
export { type PreviewImageVars, renderPreviewImage, sanitizeTagPart } from "./preview-image.ts";
export { verifyWebhookSignature } from "./signature.ts";
export {
  type CreateDeploymentInput,
  type DeploymentStatusInput,
  GithubApiError,
  type GithubClientOptions,
  GithubStatusClient,
} from "./status.ts";
export { renderStickyComment, STICKY_MARKER, type StickyCommentInput } from "./sticky-comment.ts";
