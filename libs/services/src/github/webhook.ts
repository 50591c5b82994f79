import { createHash } from "node:crypto";
import {
  and,
  type EnvironmentRow,
  environments,
  eq,
  type ProjectRow,
  projects,
  type Tx,
  webhookDeliveries,
} from "@edgeplane/db";
import { badRequest, DomainError, hostnameFor, newId, notFound } from "@edgeplane/domain";
import {
  decidePullRequest,
  isStale,
  type PullRequestEvent,
  parseGithubEvent,
  seenFrom,
  verifyWebhookSignature,
  WebhookPayloadError,
} from "@edgeplane/github";
import {
  enqueueNotify,
  enqueueStage,
  enqueueTeardown,
  recordDeployment,
  recordTeardown,
} from "@edgeplane/pipeline";
import { z } from "zod";
import type { ServiceContext } from "../context.ts";

export interface WebhookHeaders {
  event: string | undefined;
  delivery: string | undefined;
  signature: string | undefined;
}

/** What one delivery did to one linked project. */
export const webhookOutcomeSchema = z.object({
  project: z.string(),
  environment: z.string().optional(),
  action: z.enum(["ensure", "deploy", "teardown", "skip", "stale", "pong", "ignored"]),
  reason: z.string().optional(),
  deploymentId: z.string().optional(),
});
export type WebhookOutcome = z.infer<typeof webhookOutcomeSchema>;

const DELIVERY_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * A GitHub webhook: verified against the linked projects' secrets (constant time), recorded by
 * delivery id (a redelivery does nothing twice), and turned into intent in one transaction. Only
 * then are jobs enqueued, so the answer comes well within GitHub's 10 seconds. A public verb, so
 * it takes no principal: the signature, checked here, is the delivery's only credential.
 */
export async function receiveGithubWebhook({
  ctx,
  input: { headers, rawBody },
}: {
  ctx: ServiceContext;
  input: { headers: WebhookHeaders; rawBody: string };
}): Promise<{ duplicate: boolean; outcomes: WebhookOutcome[] }> {
  if (!headers.event || !/^[a-z_]{1,64}$/.test(headers.event))
    throw badRequest("missing or invalid X-GitHub-Event");
  if (!headers.delivery || !DELIVERY_ID.test(headers.delivery))
    throw badRequest("missing or invalid X-GitHub-Delivery");
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw badRequest("body is not valid JSON");
  }
  const repository = (body as { repository?: { full_name?: unknown } })?.repository?.full_name;
  if (typeof repository !== "string") throw badRequest("payload names no repository");

  const linked = await ctx.db
    .select()
    .from(projects)
    .where(eq(projects.repository, repository.toLowerCase()));
  if (linked.length === 0) throw notFound(`no project is linked to repository ${repository}`);
  const verified: ProjectRow[] = [];
  for (const project of linked) {
    if (
      project.webhookSecret &&
      (await verifyWebhookSignature(project.webhookSecret, rawBody, headers.signature))
    ) {
      verified.push(project);
    }
  }
  if (verified.length === 0) throw new DomainError("unauthorized", "missing or invalid X-Hub-Signature-256");

  let event: ReturnType<typeof parseGithubEvent>;
  try {
    event = parseGithubEvent(headers.event, body);
  } catch (error) {
    if (error instanceof WebhookPayloadError) throw badRequest(error.message);
    throw error;
  }

  const after: Array<() => Promise<void>> = [];
  const result = await ctx.db.transaction(async (tx) => {
    const [fresh] = await tx
      .insert(webhookDeliveries)
      .values({
        id: headers.delivery ?? "",
        event: headers.event ?? "",
        repository,
        outcome: "received",
        // the signature covers the body, not the delivery id: the same body under a new id is a replay
        bodySha256: createHash("sha256").update(rawBody).digest("hex"),
      })
      .onConflictDoNothing()
      .returning();
    if (!fresh) return { duplicate: true, outcomes: [] };
    const outcomes: WebhookOutcome[] = [];
    for (const project of verified) {
      if (event.kind === "ping") outcomes.push({ project: project.name, action: "pong" });
      else if (event.kind === "ignored")
        outcomes.push({ project: project.name, action: "ignored", reason: headers.event });
      else outcomes.push(await applyPullRequest(tx, ctx, project, event.payload, after));
    }
    await tx
      .update(webhookDeliveries)
      .set({
        outcome: outcomes
          .map((o) => `${o.project}:${o.action}`)
          .join(",")
          .slice(0, 500),
      })
      .where(eq(webhookDeliveries.id, headers.delivery ?? ""));
    return { duplicate: false, outcomes };
  });
  for (const job of after) await job();
  return result;
}

async function applyPullRequest(
  tx: Tx,
  ctx: ServiceContext,
  project: ProjectRow,
  event: PullRequestEvent,
  after: Array<() => Promise<void>>,
): Promise<WebhookOutcome> {
  const name = `pr-${event.number}`;
  const [current] = await tx
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, project.id), eq(environments.name, name)))
    .for("update");
  const lastSeen =
    current?.prUpdatedAt && current.prState
      ? { updatedAt: current.prUpdatedAt, state: current.prState }
      : null;
  if (isStale(event, lastSeen)) return { project: project.name, environment: name, action: "stale" };

  const seen = seenFrom(event);
  const prFields = {
    pullRequest: event.number,
    headSha: event.pull_request.head.sha,
    prState: seen.state,
    prUpdatedAt: seen.updatedAt,
  };
  const decision = decidePullRequest(event, {
    deployDrafts: project.deployDrafts,
    requiredLabel: project.requiredLabel,
    allowForks: project.allowForks,
    previewImage: project.previewImage,
    previewImages: project.previewImages,
  });

  if (decision.action === "teardown") {
    if (!current) {
      // remember the close, so a late `opened` or `synchronize` cannot create the preview
      await tx.insert(environments).values({
        id: newId("environment"),
        projectId: project.id,
        name,
        kind: "preview",
        hostname: hostnameFor(name, project.domain),
        status: "destroyed",
        destroyedAt: new Date(),
        ...prFields,
      });
      return { project: project.name, environment: name, action: "teardown", reason: decision.reason };
    }
    const env = await recordTeardown(tx, current, prFields);
    if (env) after.push(() => enqueueTeardown(ctx.producer, env));
    return { project: project.name, environment: name, action: "teardown", reason: decision.reason };
  }

  if (decision.action === "skip") {
    if (current) await tx.update(environments).set(prFields).where(eq(environments.id, current.id));
    return { project: project.name, environment: name, action: "skip", reason: decision.reason };
  }

  if (decision.deploy) {
    const { env, deployment } = await recordDeployment(tx, {
      project,
      environment: name,
      image: decision.deploy.image,
      images: decision.deploy.images,
      requestedBy: null,
      pullRequest: prFields,
    });
    after.push(async () => {
      await enqueueStage(ctx.producer, deployment);
      await enqueueNotify(ctx.producer, env, deployment.id, "queued", deployment.image);
    });
    return { project: project.name, environment: name, action: "deploy", deploymentId: deployment.id };
  }

  // no image template: make the environment visible now and wait for CI's deploy request
  const env = await ensurePending(tx, project, name, current, prFields);
  after.push(() => enqueueNotify(ctx.producer, env, null, "pending"));
  return {
    project: project.name,
    environment: name,
    action: "ensure",
    reason: "waiting for a deploy request",
  };
}

async function ensurePending(
  tx: Tx,
  project: ProjectRow,
  name: string,
  current: EnvironmentRow | undefined,
  prFields: Partial<typeof environments.$inferInsert>,
): Promise<EnvironmentRow> {
  const now = new Date();
  if (!current) {
    const [row] = await tx
      .insert(environments)
      .values({
        id: newId("environment"),
        projectId: project.id,
        name,
        kind: "preview",
        hostname: hostnameFor(name, project.domain),
        status: "pending",
        lastActivityAt: now,
        ...prFields,
      })
      .returning();
    if (!row) throw new Error("environment insert returned nothing");
    return row;
  }
  // a teardown under way finishes first; CI's next deploy request brings the environment back
  const revived = current.status === "destroyed";
  const [row] = await tx
    .update(environments)
    .set({ ...prFields, lastActivityAt: now, ...(revived ? { status: "pending", destroyedAt: null } : {}) })
    .where(eq(environments.id, current.id))
    .returning();
  if (!row) throw new Error("environment update returned nothing");
  return row;
}
