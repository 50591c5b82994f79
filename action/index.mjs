// The edgeplane GitHub Action (action.yml): asks an edgeplane API for a deployment, follows it to
// the end in the job log, and sets the output `url`. Plain JavaScript on Node's built-ins only (global
// fetch), so it runs exactly as checked in: no dependencies, no build step.
//
// It reads its inputs as the Actions runner passes them (INPUT_<NAME>, upper-cased, spaces as `_`:
// `timeout-seconds` arrives as INPUT_TIMEOUT-SECONDS), writes outputs to the file named by
// GITHUB_OUTPUT, and speaks the runner's workflow commands (::add-mask::, ::error::) on stdout.
// Run by hand: INPUT_URL=… INPUT_TOKEN=… INPUT_PROJECT=web INPUT_ENVIRONMENT=pr-1 INPUT_IMAGE=… node action/index.mjs
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const POLL_MS = 1000;
const REQUEST_TIMEOUT_MS = 30_000;
/** Answers after which a deploy request provably changed nothing and may be sent again. */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const POST_ATTEMPTS = 5;

/** A failure to report as `::error::` and exit 1; its message is written for the job log. */
class ActionFailure extends Error {}

/** `%`, CR and LF escaped, as the runner expects in a workflow command's message. */
const escapeCommand = (text) => String(text).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const log = (line) => process.stdout.write(`${line}\n`);
const error = (message) => log(`::error::${escapeCommand(message)}`);

/** The input as the runner passes it: trimmed, empty when not given. */
function input(name) {
  return (process.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").trim();
}

function required(name) {
  const value = input(name);
  if (!value) throw new ActionFailure(`input required and not supplied: ${name}`);
  return value;
}

function booleanInput(name, fallback) {
  const value = input(name);
  if (!value) return fallback;
  if (/^true$/i.test(value)) return true;
  if (/^false$/i.test(value)) return false;
  throw new ActionFailure(`input ${name} must be true or false, not '${value}'`);
}

function secondsInput(name, fallback) {
  const value = input(name);
  if (!value) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1)
    throw new ActionFailure(`input ${name} must be a whole number of seconds, not '${value}'`);
  return Number(value);
}

/** `images`: one `service=ref` per line; blank lines and `#` comments are skipped. */
function imagesInput(name) {
  const images = {};
  for (const raw of input(name).split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^([^=\s]+)\s*=\s*(\S+)$/.exec(line);
    if (!match) throw new ActionFailure(`input ${name}: expected service=image on each line, not '${line}'`);
    images[match[1]] = match[2];
  }
  return Object.keys(images).length ? images : undefined;
}

function readInputs() {
  const url = required("url").replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+/.test(url))
    throw new ActionFailure(`input url must be the edgeplane API's http(s) URL, not '${url}'`);
  const token = required("token");
  // before anything else is printed: the runner hides the token wherever it would appear
  log(`::add-mask::${token}`);
  const inputs = {
    url,
    token,
    project: required("project"),
    environment: required("environment"),
    image: input("image") || undefined,
    images: imagesInput("images"),
    wait: booleanInput("wait", true),
    timeoutSeconds: secondsInput("timeout-seconds", 900),
  };
  if (!inputs.image && !inputs.images)
    throw new ActionFailure("input required and not supplied: image (or images, for a compose project)");
  return inputs;
}

/** Appends `name=value` to the runner's output file (outside a runner: printed instead). */
function setOutput(name, value) {
  if (/[\r\n]/.test(value)) throw new ActionFailure(`output ${name} would span lines`);
  const file = process.env.GITHUB_OUTPUT;
  if (file) appendFileSync(file, `${name}=${value}\n`);
  else log(`output ${name}=${value}`);
}

/** One API call: `{ status, body, retryAfter }`, the body parsed as JSON when it is. Throws on no answer. */
async function call(inputs, method, path, body, timeoutMs = REQUEST_TIMEOUT_MS) {
  const response = await fetch(`${inputs.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${inputs.token}`,
      accept: "application/json",
      "user-agent": "edgeplane-github-action",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const retryAfter = Number(response.headers.get("retry-after"));
  return {
    status: response.status,
    body: parsed,
    text,
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  };
}

/** What the API said, for the job log: its `error.message` (and code), else the start of the body. */
function apiError(response) {
  const apiMessage = response.body?.error?.message;
  const code = response.body?.error?.code;
  if (typeof apiMessage === "string")
    return `${apiMessage} (HTTP ${response.status}${code ? ` ${code}` : ""})`;
  const text = response.text.trim().slice(0, 300);
  return `the edgeplane API answered HTTP ${response.status}${text ? `: ${text}` : ""}`;
}

/** Why a request got no answer, for the job log. */
function unreachable(inputs, cause) {
  const reason = cause?.cause?.code ?? cause?.cause?.message ?? cause?.name ?? "no answer";
  return `the edgeplane API at ${inputs.url} did not answer (${reason})`;
}

/**
 * POST /v1/deployments. An answer that guarantees nothing was stored (429, 502-504) or no connection
 * at all is retried a few times; a 4xx is final. Sending it again is harmless in any case: a second
 * request for the same environment only supersedes the first.
 */
async function requestDeployment(inputs, deadline) {
  const body = {
    project: inputs.project,
    environment: inputs.environment,
    ...(inputs.image ? { image: inputs.image } : {}),
    ...(inputs.images ? { images: inputs.images } : {}),
  };
  let last = "";
  for (let attempt = 1; attempt <= POST_ATTEMPTS; attempt++) {
    let waitMs = 1000 * 2 ** (attempt - 1);
    try {
      const response = await call(inputs, "POST", "/v1/deployments", body);
      if (response.status === 202 && typeof response.body?.id === "string") return response.body;
      if (!RETRY_STATUSES.has(response.status)) throw new ActionFailure(apiError(response));
      last = apiError(response);
      waitMs = response.retryAfterMs ?? waitMs;
    } catch (cause) {
      if (cause instanceof ActionFailure) throw cause;
      last = unreachable(inputs, cause);
    }
    if (attempt === POST_ATTEMPTS || Date.now() + waitMs > deadline) break;
    log(`${last}; trying again in ${Math.round(waitMs / 1000)}s`);
    await sleep(waitMs);
  }
  throw new ActionFailure(last);
}

const elapsed = (from, at) => `+${Math.max(0, (Date.parse(at) - Date.parse(from)) / 1000).toFixed(1)}s`;

/**
 * Polls GET /v1/deployments/{id} every second until the deployment ends or the deadline passes,
 * printing each phase it entered (from its events, so none is missed between two polls) with the
 * time since the request, and what the current phase waits on (`waiting for image`). Resolves with the final deployment; throws an ActionFailure otherwise.
 */
async function follow(inputs, deployment, deadline) {
  let printed = 0;
  let phase = null;
  let detail = null;
  let trouble = "";
  let current = deployment;
  for (;;) {
    let response;
    try {
      // a slow answer may not carry the wait far past the deadline
      const timeoutMs = Math.max(1000, Math.min(REQUEST_TIMEOUT_MS, deadline - Date.now()));
      const path = `/v1/deployments/${encodeURIComponent(deployment.id)}`;
      response = await call(inputs, "GET", path, undefined, timeoutMs);
    } catch (cause) {
      response = { failure: unreachable(inputs, cause) };
    }
    if (response.status === 200 && response.body) {
      current = response.body;
      trouble = "";
      // phase changes only: an event's message may quote the container's output, which stays in
      // the authenticated API (a public repository's job log is public)
      const events = Array.isArray(current.events) ? current.events : [];
      for (const event of events.slice(printed)) {
        if (event.phase !== phase) log(`${event.phase} (${elapsed(current.createdAt, event.at)})`);
        phase = event.phase;
      }
      printed = Math.max(printed, events.length);
      if (current.statusDetail && current.statusDetail !== detail) log(`  ${current.statusDetail}`);
      detail = current.statusDetail;
      if (["ready", "failed", "superseded"].includes(current.status)) return current;
    } else {
      // a 4xx will not get better; anything else (5xx, no answer) is waited out until the deadline
      if (response.status >= 400 && response.status < 500 && response.status !== 429)
        throw new ActionFailure(apiError(response));
      const now = response.failure ?? apiError(response);
      if (now !== trouble) log(`${now}; still following`);
      trouble = now;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const where = `${current.status}${current.statusDetail ? `, ${current.statusDetail}` : ""}`;
      throw new ActionFailure(
        `deployment ${deployment.id} did not finish within ${inputs.timeoutSeconds}s (last seen: ${where}); ` +
          "it goes on in edgeplane: raise timeout-seconds, or follow it there",
      );
    }
    await sleep(Math.min(POLL_MS, left)); // the last look is at the deadline
  }
}

async function main() {
  const inputs = readInputs();
  const deadline = Date.now() + inputs.timeoutSeconds * 1000;
  const target = inputs.images
    ? Object.entries(inputs.images)
        .map(([service, ref]) => `${service}=${ref}`)
        .join(", ")
    : inputs.image;
  log(`deploying ${target} to ${inputs.project}/${inputs.environment} via ${inputs.url}`);
  const deployment = await requestDeployment(inputs, deadline);
  log(`deployment ${deployment.id} (generation ${deployment.generation}) will answer at ${deployment.url}`);
  setOutput("deployment-id", deployment.id);
  if (!inputs.wait) {
    setOutput("url", deployment.url);
    log("wait is false: not following it");
    return;
  }
  const final = await follow(inputs, deployment, deadline);
  if (final.status === "failed") {
    log(`its events, with the container's last output: GET ${inputs.url}/v1/deployments/${final.id}`);
    throw new ActionFailure(`deployment failed: ${final.error ?? "no reason given"}`);
  }
  if (final.status === "superseded")
    throw new ActionFailure(
      `deployment superseded: a newer deployment to ${inputs.project}/${inputs.environment} took its place`,
    );
  setOutput("url", final.url);
  log(`ready at ${final.url}`);
}

try {
  await main();
} catch (failure) {
  error(
    failure instanceof ActionFailure ? failure.message : `unexpected error: ${failure?.stack ?? failure}`,
  );
  process.exitCode = 1;
}
