/**
 * When to look again for an image that is not in the registry yet (a webhook can arrive before CI
 * has pushed): after a quarter of the time waited so far, between 1 s and 30 s, with ±20 % jitter,
 * never later than the deadline. Null once `limitMs` has passed since the request: stop waiting.
 */
export function nextImageCheckDelay(
  waitedMs: number,
  limitMs: number,
  random: () => number = Math.random,
): number | null {
  const remaining = limitMs - waitedMs;
  if (remaining <= 0) return null;
  const base = Math.min(30_000, Math.max(1_000, waitedMs / 4));
  const jittered = Math.round(base * (0.8 + 0.4 * random()));
  return Math.max(100, Math.min(jittered, remaining));
}

/** `900000` → `15m`, `8000` → `8s`, `90000` → `1m30s`: durations in failure messages. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest ? `${minutes}m${rest}s` : `${minutes}m`;
}
