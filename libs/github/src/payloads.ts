import { z } from "zod";

// Only the fields edgeplane reads; GitHub sends many more, which parsing skips (neither checked nor
// copied: a pull request payload is some 25 KB of JSON, most of it repository objects).

const repositoryRef = z.object({ full_name: z.string().min(1) });
const timestamp = z.iso.datetime({ offset: true });

export const pullRequestEventSchema = z.object({
  action: z.string().min(1),
  number: z.number().int().positive(),
  pull_request: z.object({
    number: z.number().int().positive(),
    state: z.enum(["open", "closed"]),
    draft: z.boolean().default(false),
    merged: z
      .boolean()
      .nullish()
      .transform((merged) => merged === true),
    updated_at: timestamp,
    closed_at: timestamp.nullable(),
    head: z.object({
      sha: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/),
      ref: z.string().min(1),
      // null when the fork the pull request comes from has been deleted
      repo: z.object({ full_name: z.string().min(1), fork: z.boolean() }).nullable(),
    }),
    base: z.object({ repo: repositoryRef }),
    labels: z.array(z.object({ name: z.string() })).default([]),
  }),
  // the label added or removed, on `labeled` / `unlabeled`
  label: z.object({ name: z.string() }).optional(),
  repository: repositoryRef,
});
export type PullRequestEvent = z.infer<typeof pullRequestEventSchema>;

export const pingEventSchema = z.object({
  zen: z.string(),
  hook_id: z.number().int(),
  repository: repositoryRef.optional(),
});
export type PingEvent = z.infer<typeof pingEventSchema>;

export type GithubEvent =
  | { kind: "pull_request"; payload: PullRequestEvent }
  | { kind: "ping"; payload: PingEvent }
  | { kind: "ignored"; event: string };

export class WebhookPayloadError extends Error {
  override name = "WebhookPayloadError";
  constructor(
    readonly event: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    const summary = issues
      .slice(0, 5)
      .map((issue) => `${issue.path || "(root)"}: ${issue.message}`)
      .join("; ");
    super(`malformed ${event} payload: ${summary}`);
  }
}

function parseWith<T>(event: string, schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new WebhookPayloadError(
    event,
    result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  );
}

/**
 * Parses a webhook body by its `X-GitHub-Event` name. Events edgeplane does not act on are `ignored`;
 * a known event with a malformed body throws WebhookPayloadError.
 */
export function parseGithubEvent(eventName: string, body: unknown): GithubEvent {
  switch (eventName) {
    case "pull_request":
      return { kind: "pull_request", payload: parseWith(eventName, pullRequestEventSchema, body) };
    case "ping":
      return { kind: "ping", payload: parseWith(eventName, pingEventSchema, body) };
    default:
      return { kind: "ignored", event: eventName };
  }
}
