import { and, environments, eq } from "@edgeplane/db";
import { badRequest, conflict, DomainError, notFound } from "@edgeplane/domain";
import { composeAppOf } from "@edgeplane/pipeline";
import { authorize, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { findProjectByName } from "../projects/find.ts";

/** The most lines a logs request may ask for from the end of each container's output. */
export const LOG_TAIL_MAX = 10_000;
export const LOG_TAIL_DEFAULT = 100;

export interface EnvironmentLogsInput {
  project: string;
  environment: string;
  /** Lines from the end of each container's output (at most LOG_TAIL_MAX). */
  tail: number;
  /** Keep streaming what the containers write until they stop or `signal` aborts. */
  follow: boolean;
  /** One service of a compose environment; absent: every service. */
  service?: string | undefined;
}

/**
 * The output of an environment's current container(s), for a token that may read its project:
 * stdout and stderr as the container wrote them, one line at a time; in a compose environment every
 * line is prefixed with `[service] ` and the services' lines interleave as they come. Everything is
 * checked (and every container's log opened) before this resolves, so a refusal is still an error
 * answer; what it resolves with streams until the containers stop (or, without `follow`, their
 * output so far is read), or `signal` aborts.
 */
export async function environmentLogs({
  ctx,
  principal,
  input,
  signal,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: EnvironmentLogsInput;
  signal?: AbortSignal;
}): Promise<AsyncIterable<string>> {
  const project = await findProjectByName(ctx.db, input.project);
  authorize(principal, "read", project.id);
  if (input.tail < 0 || input.tail > LOG_TAIL_MAX) {
    throw badRequest(`tail must be between 0 and ${LOG_TAIL_MAX}`);
  }
  const [row] = await ctx.db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, project.id), eq(environments.name, input.environment)))
    .limit(1);
  if (!row) throw notFound(`environment '${input.environment}'`);

  const app = composeAppOf(project);
  const compose = app !== null || row.observedServices !== null;
  let targets: Array<{ prefix: string; containerId: string }>;
  if (compose) {
    const order = app?.services.map((s) => s.name) ?? [];
    const known = [...new Set([...order, ...Object.keys(row.observedServices ?? {})])];
    if (input.service !== undefined && !known.includes(input.service)) {
      throw badRequest(
        `environment ${row.name} has no service '${input.service}' (services: ${known.join(", ")})`,
      );
    }
    const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
    targets = Object.entries(row.observedServices ?? {})
      .filter(([name]) => input.service === undefined || name === input.service)
      .sort(([a], [b]) => rank(a) - rank(b))
      .map(([name, observed]) => ({ prefix: `[${name}] `, containerId: observed.containerId }));
  } else {
    if (input.service !== undefined) {
      throw badRequest(
        `environment ${row.name} runs one container (project ${project.name} has no compose file): leave out service`,
      );
    }
    targets = row.observedContainerId ? [{ prefix: "", containerId: row.observedContainerId }] : [];
  }
  const noContainer = conflict(`environment ${row.name} has no running container`);
  if (row.status === "destroyed" || targets.length === 0) throw noContainer;
  const reader = ctx.containerLogs;
  if (!reader) {
    throw new DomainError("unavailable", "this API process cannot read container logs (no Docker access)");
  }
  const opened: Array<{ prefix: string; output: AsyncIterable<Buffer> }> = [];
  for (const target of targets) {
    const output = await reader.logs(target.containerId, {
      tail: input.tail,
      follow: input.follow,
      ...(signal ? { signal } : {}),
    });
    if (output) opened.push({ prefix: target.prefix, output });
  }
  if (opened.length === 0) throw noContainer;
  return merge(opened.map(({ prefix, output }) => linesOf(output, prefix)));
}

/** Whole lines of `output` (a last one without its newline is ended), each prefixed. */
async function* linesOf(output: AsyncIterable<Buffer>, prefix: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let partial = "";
  for await (const chunk of output) {
    const text = partial + decoder.decode(chunk, { stream: true });
    const end = text.lastIndexOf("\n");
    if (end === -1) {
      partial = text;
      continue;
    }
    partial = text.slice(end + 1);
    yield text
      .slice(0, end + 1)
      .split(/(?<=\n)/)
      .map((line) => prefix + line)
      .join("");
  }
  const rest = partial + decoder.decode();
  if (rest) yield `${prefix}${rest}\n`;
}

/** Values of every source as each produces them; ends when all have ended. */
async function* merge<T>(sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((source) => source[Symbol.asyncIterator]());
  const next = (i: number) => (iterators[i] as AsyncIterator<T>).next().then((result) => ({ i, result }));
  const pending = new Map(iterators.map((_, i) => [i, next(i)] as const));
  try {
    while (pending.size > 0) {
      const { i, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(i);
        continue;
      }
      pending.set(i, next(i));
      yield result.value;
    }
  } finally {
    // the reader went away: let each source close its stream (those waiting on Docker close once
    // their request is aborted), without waiting for them here
    for (const iterator of iterators) void iterator.return?.()?.catch(() => {});
  }
}
