import { setTimeout as sleep } from "node:timers/promises";
import type { DeploymentView } from "@edgeplane/services";
import { ApiError, apiGet, apiRequest, type ClientEnv, loadClientEnv } from "../api-client.ts";
import { jsonProgress, type PhaseEvent, type Progress, plainProgress, spinnerProgress } from "../progress.ts";
import { projectOf, segment } from "../project.ts";
import { parseServerSentEvents } from "../sse.ts";
import { UsageError } from "./hosts.ts";

export interface DeployOptions {
  project?: string;
  env: string;
  image?: string;
  /** `service=REF`, repeatable. */
  images?: string[];
  /** `service.KEY=VALUE`, repeatable. */
  set?: string[];
  /** False with `--no-wait`. */
  wait: boolean;
  json: boolean;
  /** Seconds to wait for the deployment to end. */
  timeout: number;
}

/** `--images web=REF api=REF` as the API takes it. */
export function parseImages(pairs: string[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0 || at === pair.length - 1) {
      throw new UsageError(`--images takes SERVICE=REF, got '${pair}'`);
    }
    images[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return images;
}

/** `--set web.FEATURE_X=1` as the API takes it: values per service. */
export function parseSettings(settings: string[]): Record<string, Record<string, string>> {
  const env: Record<string, Record<string, string>> = {};
  for (const setting of settings) {
    const match = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(setting);
    if (!match) throw new UsageError(`--set takes SERVICE.KEY=VALUE, got '${setting}'`);
    const [, service = "", key = "", value = ""] = match;
    env[service] = { ...env[service], [key]: value };
  }
  return env;
}

/**
 * `edgeplane deploy`: requests the deployment, then follows its events until it ends. Resolves
 * when it is ready; throws (exit 1) with the reason and what to do next when it failed, was
 * superseded, or did not end within the timeout.
 */
export async function deploy(options: DeployOptions): Promise<void> {
  const images = parseImages(options.images ?? []);
  if (!options.image && Object.keys(images).length === 0) {
    throw new UsageError("deploy needs --image REF (or --images SERVICE=REF ... for a compose project)");
  }
  const settings = parseSettings(options.set ?? []);
  const env = loadClientEnv();
  const project = await projectOf(env, options.project);
  const response = await apiRequest(
    env,
    "POST",
    "/v1/deployments",
    {
      project,
      environment: options.env,
      ...(options.image ? { image: options.image } : {}),
      ...(Object.keys(images).length > 0 ? { images } : {}),
      ...(Object.keys(settings).length > 0 ? { env: settings } : {}),
    },
    {
      hints: {
        403: `deploying needs a token with the deploy scope granted project ${project}: set EDGEPLANE_TOKEN (or --token) to one`,
        404: "`edgeplane projects ls` lists the projects your token can see",
      },
    },
  );
  const deployment = (await response.json()) as DeploymentView;
  if (!options.wait) {
    if (options.json) process.stdout.write(`${JSON.stringify(deployment)}\n`);
    else {
      process.stdout.write(`${deployment.id} ${deployment.url}\n`);
      process.stderr.write(
        `edgeplane: ${deployment.id} ${deployment.status}; \`edgeplane status ${deployment.id}\` follows it up\n`,
      );
    }
    return;
  }
  const queuedAt = Date.parse(deployment.phases.queued ?? deployment.createdAt ?? new Date().toISOString());
  const write = (text: string) => void process.stdout.write(text);
  const progress = options.json
    ? jsonProgress(queuedAt, write)
    : process.stdout.isTTY && process.stdout.columns > 0 && !process.env.CI
      ? spinnerProgress(queuedAt, process.stdout, (await import("ora")).default)
      : plainProgress(queuedAt, write);
  const final = await follow(env, deployment, progress, options.timeout);
  progress.end(final);
  if (final.status === "ready") return;
  const where = `--project ${final.project}`;
  if (final.status === "superseded") {
    throw new Error(
      `deployment ${final.id} was superseded: a newer deployment to ${final.environment} replaced it\n` +
        `  next: \`edgeplane status ${final.environment} ${where}\` shows what runs there now`,
    );
  }
  throw new Error(
    `deployment failed: ${final.error ?? "no reason recorded"}\n` +
      `  next: \`edgeplane status ${final.id}\` shows its events; \`edgeplane logs ${final.environment} ${where}\` ` +
      "shows the container's output; fix the cause and deploy again",
  );
}

/**
 * Follows the deployment's events until it ends, reconnecting (from the last event seen) when the
 * stream breaks; the deployment as the API showed it at the end.
 */
async function follow(
  env: ClientEnv,
  deployment: DeploymentView,
  progress: Progress,
  timeoutSeconds: number,
): Promise<DeploymentView> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastEventId: string | undefined;
  let failures = 0;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const signal = AbortSignal.timeout(left);
    try {
      const response = await apiGet(env, `/v1/deployments/${segment(deployment.id)}/events`, {
        headers: { accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
        signal,
      });
      for await (const message of parseServerSentEvents(response.body ?? new ReadableStream())) {
        failures = 0;
        if (message.event === "phase") {
          lastEventId = message.id ?? lastEventId;
          progress.phase({ ...(JSON.parse(message.data) as PhaseEvent), id: message.id });
        } else if (message.event === "end") {
          return JSON.parse(message.data) as DeploymentView;
        }
        // `error`: the stream failed on the API's side; reconnect below
      }
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof ApiError && error.status < 500) throw error;
      if (++failures > 10) throw error;
    }
    await sleep(Math.min(Math.max(500, 1000 * failures), 5000, Math.max(0, deadline - Date.now())));
  }
  const now = await apiGet(env, `/v1/deployments/${segment(deployment.id)}`)
    .then((r) => r.json() as Promise<DeploymentView>)
    .catch(() => null);
  throw new Error(
    `deployment ${deployment.id} did not end within ${timeoutSeconds}s${now ? ` (it is ${now.status})` : ""}; it goes on\n` +
      `  next: \`edgeplane status ${deployment.id}\` follows it up; --timeout SECONDS waits longer`,
  );
}
