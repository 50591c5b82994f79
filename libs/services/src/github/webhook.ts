import { createHash } from "node:crypto";
import {
  and,
  type Db,
  type EnvironmentRow,
  environments,
  eq,
  isUniqueViolation,
  type PipelinedTx,
  type ProjectRow,
  prepare,
  projects,
  rowOf,
  rowVersion,
  runPrepared,
  type SQL,
  spareEnvironmentId,
  sql,
  statements,
  webhookDeliveries,
} from "@edgeplane/db";
import { badRequest, DomainError, hostnameFor, newId, notFound } from "@edgeplane/domain";
import {
  decidePullRequest,
  type GithubEvent,
  isStale,
  type PullRequestEvent,
  parseGithubEvent,
  seenFrom,
  verifyWebhookSignature,
  WebhookPayloadError,
} from "@edgeplane/github";
import {
  assertHostnameFree,
  enqueueNotify,
  enqueueStage,
  enqueueTeardown,
  environmentKey,
  intentWrites,
  planDeployment,
  quotaExceeded,
  StaleProject,
  sendDeployment,
  sendTeardown,
} from "@edgeplane/pipeline";
import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { LastRead } from "../projects/last-read.ts";

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

const placeholder = (name: string) => sql.placeholder(name) as unknown as SQL;

// the statements every delivery runs, compiled once
const LINKED_PROJECTS = prepare(
  sql`select *, ${rowVersion(projects)} as version from ${projects}
    where ${projects.repository} = ${placeholder("repository")}`,
);
/** The projects linked to a repository as they are now: only ids and versions, to compare. */
const LINKED_VERSIONS = prepare(
  sql`select ${projects.id} as id, ${rowVersion(projects)} as version from ${projects}
    where ${projects.repository} = ${placeholder("repository")}`,
);
const RECORD_DELIVERY = prepare(
  statements
    .insert(webhookDeliveries)
    .values({
      id: placeholder("id"),
      event: placeholder("event"),
      repository: placeholder("repository"),
      outcome: "received",
      bodySha256: placeholder("bodySha256"),
    })
    .onConflictDoNothing()
    .returning({ id: webhookDeliveries.id }),
);
const LOCK_ENVIRONMENT = prepare(
  statements
    .select()
    .from(environments)
    .where(
      and(eq(environments.projectId, placeholder("projectId")), eq(environments.name, placeholder("name"))),
    )
    .for("update"),
);
const RECORD_OUTCOME = prepare(
  statements
    .update(webhookDeliveries)
    .set({ outcome: placeholder("outcome") })
    .where(eq(webhookDeliveries.id, placeholder("id"))),
);
const SEEN_PENDING = prepare(
  statements
    .update(environments)
    .set({
      pullRequest: placeholder("pullRequest"),
      headSha: placeholder("headSha"),
      prState: placeholder("prState"),
      prUpdatedAt: placeholder("prUpdatedAt"),
      lastActivityAt: placeholder("now"),
      updatedAt: placeholder("now"),
    })
    .where(eq(environments.id, placeholder("id")))
    .returning(),
);

/** A project linked to the delivery's repository, and the version of its row as read. */
interface LinkedProject {
  project: ProjectRow;
  version: string;
}

/** Every project linked to a repository (lower case), as read; `cached` if read by an earlier delivery. */
interface Linked {
  repository: string;
  projects: LinkedProject[];
  cached: boolean;
}

/** The projects linked to each repository, as deliveries last read them. */
const linkedByRepository = new LastRead<LinkedProject[]>(1000);

/**
 * The projects linked to `repository` (lower case): as this process last read them, unless
 * `fresh`, or none were. A delivery's transaction checks that the set is still what it was read as
 * (see sendDelivery), so a cached set never decides anything written; one that refuses a delivery
 * is read again first. A repository with no linked project is never cached.
 */
async function linkedProjects(db: Db, repository: string, fresh: boolean): Promise<Linked> {
  const { value, cached } = await linkedByRepository.get(db, repository, {
    fresh,
    read: async () =>
      (await runPrepared(db, LINKED_PROJECTS, { repository })).map((raw) => ({
        project: rowOf(projects, raw),
        version: String(raw.version),
      })),
    keep: (read) => read.length > 0,
  });
  return { repository, projects: value, cached };
}

/** Whether the linked projects now (ids and versions) are the ones `read` holds, at the same versions. */
function sameLinked(read: LinkedProject[], now: Array<Record<string, unknown>>): boolean {
  if (now.length !== read.length) return false;
  const versions = new Map(read.map(({ project, version }) => [project.id, version]));
  return now.every((row) => versions.get(String(row.id)) === String(row.version));
}

/** A result wanted after the commit, or by nobody if the transaction fails: never an unhandled rejection. */
function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/**
 * A GitHub webhook: verified against the linked projects' secrets (constant time), recorded by
 * delivery id (a redelivery does nothing twice), and turned into intent in one transaction. Only
 * then are jobs enqueued, so the answer comes well within GitHub's 10 seconds. A public verb, so
 * it takes no principal: the signature, checked here, is the delivery's only credential.
 *
 * The transaction is pipelined: the delivery's record and the lock on each linked project's
 * environment go out together; what the event does to each is decided from what they return and
 * goes out with the delivery's outcome and COMMIT (first waiting, only when an environment is
 * created, for the project's quota to say yes). Under load it is group-committed with the other
 * intent writes that arrive meanwhile (see intentWrites), never with another delivery for the same
 * environment.
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

  // the linked projects whose secret signed the body, each with the version its row was read at;
  // refused only on the grounds of a fresh read
  const verifiedProjects = async (fresh: boolean): Promise<{ linked: Linked; verified: LinkedProject[] }> => {
    const linked = await linkedProjects(ctx.db, repository.toLowerCase(), fresh);
    if (linked.projects.length === 0) throw notFound(`no project is linked to repository ${repository}`);
    const verified: LinkedProject[] = [];
    for (const candidate of linked.projects) {
      const secret = candidate.project.webhookSecret;
      if (secret && (await verifyWebhookSignature(secret, rawBody, headers.signature)))
        verified.push(candidate);
    }
    if (verified.length > 0) return { linked, verified };
    if (linked.cached) return verifiedProjects(true);
    throw new DomainError("unauthorized", "missing or invalid X-Hub-Signature-256");
  };
  let { linked, verified } = await verifiedProjects(false);

  let event: GithubEvent;
  try {
    event = parseGithubEvent(headers.event, body);
  } catch (error) {
    if (error instanceof WebhookPayloadError) throw badRequest(error.message);
    throw error;
  }

  const delivery = {
    id: headers.delivery,
    event: headers.event,
    repository,
    // the signature covers the body, not the delivery id: the same body under a new id is a replay
    bodySha256: createHash("sha256").update(rawBody).digest("hex"),
  };
  const name = environmentOf(event);
  for (let attempt = 0; ; attempt++) {
    try {
      if (attempt > 0) ({ linked, verified } = await verifiedProjects(true));
      // group-committed with the other intent writes; never with another write to the same
      // environment (what it decides rests on the row it locks) nor another copy of this delivery
      const keys = [
        ...(name ? verified.map(({ project }) => environmentKey(project.id, name)) : []),
        `delivery/${delivery.id}`,
      ];
      const { after, ...result } = await intentWrites(ctx.db).run(
        keys,
        (tx) => sendDelivery(tx, ctx, delivery, event, linked, verified),
        { exclusive: true },
      );
      for (const job of after) await job();
      return result;
    } catch (error) {
      // a project changed since it was read: nothing was written; again with the projects as they are
      if (error instanceof StaleProject && attempt < 2) continue;
      // another delivery created the environment at the same moment; or a hostname taken elsewhere
      if (!isUniqueViolation(error) || event.kind !== "pull_request") throw error;
      for (const { project } of verified)
        await assertHostnameFree(ctx.db, project, hostnameFor(name, project.domain), attempt);
    }
  }
}

/** The environment a delivery is about: a pull request's preview, or none. */
const environmentOf = (event: GithubEvent) =>
  event.kind === "pull_request" ? `pr-${event.payload.number}` : "";

/**
 * A delivery's transaction, COMMIT included: the linked projects checked against `linked` (as the
 * delivery was verified against them), its record and the lock on each verified project's
 * environment first, then what the event does to each, decided from what those return. Throws
 * StaleProject, writing nothing, if a linked project changed, or one was linked or unlinked, since
 * `linked` was read. Jobs to enqueue once it is committed come back in `after` (made anew each
 * time it runs: a group commit may run it again, alone).
 */
async function sendDelivery(
  tx: PipelinedTx,
  ctx: ServiceContext,
  delivery: { id: string; event: string; repository: string; bodySha256: string },
  event: GithubEvent,
  linked: Linked,
  verified: LinkedProject[],
): Promise<{ duplicate: boolean; outcomes: WebhookOutcome[]; after: Array<() => Promise<void>> }> {
  const after: Array<() => Promise<void>> = [];
  const name = environmentOf(event);
  const linkedNow = tx.send(LINKED_VERSIONS, { repository: linked.repository });
  const recorded = tx.send(RECORD_DELIVERY, delivery);
  const locked = verified.map(({ project }) =>
    event.kind === "pull_request"
      ? tx.send(LOCK_ENVIRONMENT, { projectId: project.id, name })
      : Promise.resolve([]),
  );
  const [now, [fresh], ...current] = await Promise.all([linkedNow, recorded, ...locked]);
  if (!sameLinked(linked.projects, now)) throw new StaleProject();
  if (!fresh) return { duplicate: true, outcomes: [], after };
  const outcomes: WebhookOutcome[] = [];
  const confirmations: Array<Promise<unknown>> = [];
  verified.forEach(({ project, version }, i) => {
    if (event.kind === "ping") outcomes.push({ project: project.name, action: "pong" });
    else if (event.kind === "ignored")
      outcomes.push({ project: project.name, action: "ignored", reason: delivery.event });
    else {
      const [row] = current[i] ?? [];
      const env = row ? rowOf(environments, row) : undefined;
      const applied = applyPullRequest(tx, ctx, { project, version }, event.payload, env, after);
      outcomes.push(applied.outcome);
      if (applied.confirmation) confirmations.push(applied.confirmation);
    }
  });
  await Promise.all(confirmations);
  tx.send(RECORD_OUTCOME, {
    id: delivery.id,
    outcome: outcomes
      .map((o) => `${o.project}:${o.action}`)
      .join(",")
      .slice(0, 500),
  });
  await tx.commit();
  return { duplicate: false, outcomes, after };
}

/**
 * Sends what a pull request event does to one project's environment (`current`, locked), and
 * says so. Jobs to enqueue once committed go to `after`; a `confirmation` must resolve before the
 * commit (a new environment, within the project's quota).
 */
function applyPullRequest(
  tx: PipelinedTx,
  ctx: ServiceContext,
  { project, version }: LinkedProject,
  event: PullRequestEvent,
  current: EnvironmentRow | undefined,
  after: Array<() => Promise<void>>,
): { outcome: WebhookOutcome; confirmation?: Promise<unknown> } {
  const name = `pr-${event.number}`;
  const lastSeen =
    current?.prUpdatedAt && current.prState
      ? { updatedAt: current.prUpdatedAt, state: current.prState }
      : null;
  if (isStale(event, lastSeen))
    return { outcome: { project: project.name, environment: name, action: "stale" } };

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
    const outcome = {
      project: project.name,
      environment: name,
      action: "teardown",
      reason: decision.reason,
    } as const;
    if (!current) {
      // remember the close, so a late `opened` or `synchronize` cannot create the preview
      tx.send(
        statements.insert(environments).values({
          id: newId("environment"),
          projectId: project.id,
          name,
          kind: "preview",
          hostname: hostnameFor(name, project.domain),
          status: "destroyed",
          destroyedAt: new Date(),
          ...prFields,
        }),
      );
      return { outcome };
    }
    const env = later(sendTeardown(tx, current, prFields));
    after.push(async () => {
      const torn = await env;
      if (torn) await enqueueTeardown(ctx.producer, torn);
    });
    return { outcome };
  }

  if (decision.action === "skip") {
    if (current)
      tx.send(
        statements
          .update(environments)
          .set({ ...prFields, updatedAt: new Date() })
          .where(eq(environments.id, current.id)),
      );
    return { outcome: { project: project.name, environment: name, action: "skip", reason: decision.reason } };
  }

  if (decision.deploy) {
    const request = {
      project,
      projectVersion: version,
      environment: name,
      image: decision.deploy.image,
      images: decision.deploy.images,
      requestedBy: null,
      pullRequest: prFields,
    };
    const plan = planDeployment(project, request);
    const live = current !== undefined && current.status !== "destroyed";
    const deploymentId = newId("deployment");
    const recorded = later(
      sendDeployment(tx, request, plan, live ? "redeploy" : "create", deploymentId).then((r) => {
        if (!r) throw quotaExceeded(project);
        return r;
      }),
    );
    after.push(async () => {
      const { env, deployment, superseded } = await recorded;
      await enqueueStage(ctx.producer, deployment, superseded);
      await enqueueNotify(ctx.producer, env, deployment.id, "queued", deployment.image);
    });
    return {
      outcome: { project: project.name, environment: name, action: "deploy", deploymentId },
      ...(live ? {} : { confirmation: recorded }),
    };
  }

  // no image template: make the environment visible now and wait for CI's deploy request
  const env = later(sendPending(tx, project, name, current, prFields));
  after.push(async () => enqueueNotify(ctx.producer, await env, null, "pending"));
  return {
    outcome: {
      project: project.name,
      environment: name,
      action: "ensure",
      reason: "waiting for a deploy request",
    },
  };
}

/** The environment of a pull request with no image yet: created `pending`, or brought up to date. */
function sendPending(
  tx: PipelinedTx,
  project: ProjectRow,
  name: string,
  current: EnvironmentRow | undefined,
  prFields: Partial<typeof environments.$inferInsert>,
): Promise<EnvironmentRow> {
  const now = new Date();
  const statement = !current
    ? statements
        .insert(environments)
        .values({
          id: spareEnvironmentId(newId("environment")),
          projectId: project.id,
          name,
          kind: "preview",
          hostname: hostnameFor(name, project.domain),
          status: "pending",
          lastActivityAt: now,
          ...prFields,
        })
        .returning()
    : // a teardown under way finishes first; CI's next deploy request brings the environment back
      current.status === "destroyed"
      ? statements
          .update(environments)
          .set({ ...prFields, lastActivityAt: now, updatedAt: now, status: "pending", destroyedAt: null })
          .where(eq(environments.id, current.id))
          .returning()
      : null;
  const rows = statement ? tx.send(statement) : tx.send(SEEN_PENDING, { ...prFields, id: current?.id, now });
  return rows.then(([row]) => {
    if (!row) throw new Error("environment write returned nothing");
    return rowOf(environments, row);
  });
}
