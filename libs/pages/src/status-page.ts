import { escapeHtml } from "./escape-html.ts";
import {
  type DeployPhase,
  deployPhases,
  type StatusPageState,
  statusPageStateSchema,
} from "./status-state.ts";

/**
 * Seconds between refreshes of a deploying page. Also sent as `Retry-After` with its 503: the environment
 * is expected shortly, so clients and scripts may ask again after this many seconds rather than give up.
 */
export const deployingRefreshSeconds = 3;

export type StatusPageJson = StatusPageState & { message: string; retryAfterSeconds?: number };

export interface StatusPage {
  /** deploying 503 (temporarily unavailable), failed 502 (the upstream could not be brought up),
   * destroyed 410 (gone for good), unknown 404. */
  status: 503 | 502 | 410 | 404;
  /** Headers to send with either form: `cache-control: no-store`, and `retry-after` while deploying. */
  headers: Record<string, string>;
  html: string;
  /** The same information for scripts (`Accept: application/json`). */
  json: StatusPageJson;
}

const phaseLabels: Record<DeployPhase, string> = {
  queued: "Queued",
  staging: "Staging the image",
  starting: "Starting the container",
  routing: "Routing traffic",
};

const css = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #f6f7f9; --card: #fff; --muted: #57606a; --accent: #0a58ca; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --card: #161b22; --muted: #9da7b3; --accent: #6ea8fe; }
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 1.5rem;
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { width: 100%; max-width: 36rem; padding: 2rem; border-radius: 0.75rem; background: var(--card);
  box-shadow: 0 1px 3px rgb(0 0 0 / 0.15); }
h1 { margin: 0 0 0.75rem; font-size: 1.5rem; line-height: 1.25; overflow-wrap: anywhere; }
p { margin: 0.75rem 0; overflow-wrap: anywhere; }
.meta { color: var(--muted); font-size: 0.875rem; }
a { color: var(--accent); }
pre { margin: 0.75rem 0; padding: 0.75rem; border-radius: 0.5rem; background: var(--bg); white-space: pre-wrap;
  overflow-wrap: anywhere; font-size: 0.875rem; }
ol { padding-left: 1.25rem; }
li { margin: 0.25rem 0; color: var(--muted); }
li.done { color: var(--fg); }
li[aria-current] { color: var(--fg); font-weight: 600; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

function time(iso: string): string {
  const utc = `${new Date(iso).toISOString().slice(0, 19).replace("T", " ")} UTC`;
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(utc)}</time>`;
}

function page(options: { title: string; body: string; refreshSeconds?: number }): string {
  const refresh =
    options.refreshSeconds === undefined
      ? ""
      : `\n<meta http-equiv="refresh" content="${options.refreshSeconds}">`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">${refresh}
<title>${escapeHtml(options.title)}</title>
<style>${css}</style>
</head>
<body>
<main>
${options.body}
</main>
</body>
</html>
`;
}

function phaseList(current: DeployPhase): string {
  const at = deployPhases.indexOf(current);
  const items = deployPhases.map((phase, index) => {
    const label = escapeHtml(phaseLabels[phase]);
    if (index < at) return `<li class="done">${label}<span class="visually-hidden"> (done)</span></li>`;
    if (index === at)
      return `<li aria-current="step">${label}<span class="visually-hidden"> (in progress)</span></li>`;
    return `<li>${label}</li>`;
  });
  return `<ol aria-label="Deployment progress">\n${items.join("\n")}\n</ol>`;
}

function deploying(state: Extract<StatusPageState, { state: "deploying" }>): StatusPage {
  const env = escapeHtml(state.environment);
  const project = escapeHtml(state.project);
  const message = `${state.environment} (${state.project}) is deploying: ${phaseLabels[state.phase].toLowerCase()}.`;
  const body = `<h1>${env} is deploying</h1>
<p role="status">The environment <strong>${env}</strong> of project <strong>${project}</strong> is being deployed.
Current step: <strong>${escapeHtml(phaseLabels[state.phase])}</strong>.</p>
${phaseList(state.phase)}
<p>This page reloads every ${deployingRefreshSeconds} seconds and shows the environment at
<a href="${escapeHtml(state.url)}">${escapeHtml(state.url)}</a> as soon as it is ready.</p>
<p class="meta">Deploying since ${time(state.since)}.</p>`;
  return {
    status: 503,
    headers: { "cache-control": "no-store", "retry-after": String(deployingRefreshSeconds) },
    html: page({
      title: `Deploying ${state.environment} · ${state.project}`,
      body,
      refreshSeconds: deployingRefreshSeconds,
    }),
    json: { ...state, message, retryAfterSeconds: deployingRefreshSeconds },
  };
}

function failed(state: Extract<StatusPageState, { state: "failed" }>): StatusPage {
  const env = escapeHtml(state.environment);
  const body = `<h1>${env} failed to deploy</h1>
<p>The latest deployment of <strong>${env}</strong> in project <strong>${escapeHtml(state.project)}</strong>
failed, so there is nothing to serve here. Fix the cause and deploy again (for a preview, push a new commit).</p>
<p>Reason:</p>
<pre>${escapeHtml(state.reason)}</pre>
<p class="meta">Failed at ${time(state.failedAt)}.</p>`;
  return {
    status: 502,
    headers: { "cache-control": "no-store" },
    html: page({ title: `${state.environment} failed · ${state.project}`, body }),
    json: { ...state, message: `${state.environment} (${state.project}) failed to deploy: ${state.reason}` },
  };
}

function destroyed(state: Extract<StatusPageState, { state: "destroyed" }>): StatusPage {
  const env = escapeHtml(state.environment);
  const body = `<h1>${env} no longer exists</h1>
<p>The environment <strong>${env}</strong> of project <strong>${escapeHtml(state.project)}</strong> was
removed and is not coming back at this address. Deploy it again to recreate it.</p>
<p class="meta">Removed at ${time(state.destroyedAt)}.</p>`;
  return {
    status: 410,
    headers: { "cache-control": "no-store" },
    html: page({ title: `${state.environment} removed · ${state.project}`, body }),
    json: { ...state, message: `${state.environment} (${state.project}) has been removed.` },
  };
}

function unknown(state: Extract<StatusPageState, { state: "unknown" }>): StatusPage {
  const host = escapeHtml(state.hostname);
  const body = `<h1>No environment here</h1>
<p>There is no environment at <strong>${host}</strong>. Check the address, or deploy an environment for it.</p>`;
  return {
    status: 404,
    headers: { "cache-control": "no-store" },
    html: page({ title: `No environment at ${state.hostname}`, body }),
    json: { ...state, message: `There is no environment at ${state.hostname}.` },
  };
}

/** Renders what a browser (HTML) or a script (JSON) gets for a host without a ready environment. */
export function renderStatusPage(input: StatusPageState): StatusPage {
  const state = statusPageStateSchema.parse(input);
  switch (state.state) {
    case "deploying":
      return deploying(state);
    case "failed":
      return failed(state);
    case "destroyed":
      return destroyed(state);
    case "unknown":
      return unknown(state);
  }
}
