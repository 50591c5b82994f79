/**
 * Calls to the API from the console. The session cookie (HttpOnly: no script reads it) goes with
 * every same-origin request, and counts only with the console's header, which a cross-site form
 * cannot send. The token is posted once, at sign-in, and kept nowhere in the browser.
 */
export const CONSOLE_HEADERS = { "x-edgeplane-console": "1" } as const;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let signedOut: () => void = () => {};

/** Called whenever the API answers 401: the session ended (signed out elsewhere, expired, revoked). */
export function onSignedOut(listener: () => void): void {
  signedOut = listener;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      ...CONSOLE_HEADERS,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string };
  } | null;
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith("/console/session")) signedOut();
    throw new ApiError(res.status, data?.error?.code ?? "internal", data?.error?.message ?? res.statusText);
  }
  return data as T;
}

/**
 * Reads a streamed answer (logs, server-sent events) chunk by chunk with fetch, which can send the
 * console's header (EventSource cannot). Resolves when the stream ends or `signal` aborts; rejects
 * with an ApiError when the API refuses.
 */
export async function stream(
  path: string,
  signal: AbortSignal,
  onText: (text: string) => void,
): Promise<void> {
  const res = await fetch(path, { credentials: "same-origin", headers: CONSOLE_HEADERS, signal });
  if (!res.ok || !res.body) {
    const data = (await res.json().catch(() => null)) as {
      error?: { code?: string; message?: string };
    } | null;
    if (res.status === 401) signedOut();
    throw new ApiError(res.status, data?.error?.code ?? "internal", data?.error?.message ?? res.statusText);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onText(value);
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  } finally {
    reader.releaseLock();
  }
}

export const path = {
  projects: () => "/v1/projects",
  project: (p: string) => `/v1/projects/${encodeURIComponent(p)}`,
  environments: (p: string, includeDestroyed: boolean) =>
    `/v1/projects/${encodeURIComponent(p)}/environments${includeDestroyed ? "?include=destroyed" : ""}`,
  environment: (p: string, e: string) =>
    `/v1/projects/${encodeURIComponent(p)}/environments/${encodeURIComponent(e)}`,
  deployments: (p: string, e: string) =>
    `/v1/projects/${encodeURIComponent(p)}/environments/${encodeURIComponent(e)}/deployments?limit=20`,
  deployment: (id: string) => `/v1/deployments/${encodeURIComponent(id)}`,
  events: (id: string) => `/v1/deployments/${encodeURIComponent(id)}/events`,
  logs: (p: string, e: string) =>
    `/v1/projects/${encodeURIComponent(p)}/environments/${encodeURIComponent(e)}/logs?tail=200&follow=1`,
};
