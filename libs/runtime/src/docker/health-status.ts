import type { ContainerHealthcheck, HealthStatus } from "../types.ts";

/** A healthcheck's verdict from the Status text of a container listing: "Up 3 seconds (healthy)". */
export function healthFromStatusText(status: string | undefined): HealthStatus | null {
  if (!status) return null;
  if (/\(health: starting\)/.test(status)) return "starting";
  if (/\(unhealthy\)/.test(status)) return "unhealthy";
  if (/\(healthy\)/.test(status)) return "healthy";
  return null;
}

/** A healthcheck's verdict from an inspection's `State.Health.Status` ("none" or absent: no healthcheck). */
export function healthFromInspect(status: string | undefined): HealthStatus | null {
  return status === "starting" || status === "healthy" || status === "unhealthy" ? status : null;
}

/** The Docker HEALTHCHECK of a spec: absent keeps the image's, null disables it. */
export function dockerHealthcheck(
  check: ContainerHealthcheck | null | undefined,
):
  | { Test: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number }
  | undefined {
  if (check === undefined) return undefined;
  if (check === null) return { Test: ["NONE"] };
  const [kind, ...rest] = check.test;
  if (kind === "NONE") return { Test: ["NONE"] };
  if ((kind !== "CMD" && kind !== "CMD-SHELL") || rest.length === 0) {
    throw new Error(
      `a healthcheck test must be ["CMD", ...] or ["CMD-SHELL", "..."], not ${JSON.stringify(check.test)}`,
    );
  }
  const ns = (ms: number) => Math.round(ms * 1_000_000);
  return {
    Test: check.test,
    Interval: ns(check.intervalMs),
    Timeout: ns(check.timeoutMs),
    Retries: check.retries,
    StartPeriod: ns(check.startPeriodMs),
  };
}
