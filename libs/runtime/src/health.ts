import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `http://<host>:<port><path>` (host default 127.0.0.1) until it answers 2xx/3xx. Resolves true when healthy,
 * false when the deadline passes or `stillAlive()` says the container died.
 */
export async function waitHealthy(options: {
  host?: string;
  port: number;
  path: string;
  timeoutMs: number;
  intervalMs?: number;
  stillAlive?: () => Promise<boolean>;
}): Promise<{ healthy: boolean; lastError: string; exited?: boolean; lastStatus?: number }> {
  const deadline = Date.now() + options.timeoutMs;
  const url = `http://${options.host ?? "127.0.0.1"}:${options.port}${options.path}`;
  let lastError = "no answer yet";
  let lastStatus: number | undefined;
  let attempt = 0;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: "manual" });
      await response.arrayBuffer().catch(() => {});
      if (response.status >= 200 && response.status < 400) return { healthy: true, lastError: "" };
      lastStatus = response.status;
      lastError = `health check ${options.path} answered ${response.status}`;
    } catch (error) {
      lastError = `health check ${options.path}: ${(error as Error).cause ? String(((error as Error).cause as Error).message) : (error as Error).message}`;
    }
    attempt++;
    if (options.stillAlive && attempt % 5 === 0 && !(await options.stillAlive())) {
      return { healthy: false, lastError: `container exited; ${lastError}`, exited: true };
    }
    await sleep(options.intervalMs ?? Math.min(50 * attempt, 250));
  }
  return { healthy: false, lastError, ...(lastStatus === undefined ? {} : { lastStatus }) };
}
