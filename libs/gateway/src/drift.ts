/** What the drift watch needs of a gateway: whether its config on disk is still what it installed. */
export interface DriftingGateway {
  configDrifted(): Promise<boolean>;
}

/**
 * Gateway drift repair: the config is derived from state, so a config file that someone changed,
 * corrupted or removed is rendered again from Postgres (`repair`). Checks every `intervalMs`, one
 * check at a time; a failed repair is reported and tried again at the next check.
 */
export function watchDrift(
  gateway: DriftingGateway,
  options: {
    intervalMs: number;
    repair: () => Promise<unknown>;
    onRepair?: () => void;
    onError?: (error: Error) => void;
  },
): { stop(): void } {
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    gateway
      .configDrifted()
      .then(async (drifted) => {
        if (!drifted) return;
        options.onRepair?.();
        await options.repair();
      })
      .catch((error: Error) => options.onError?.(error))
      .finally(() => {
        checking = false;
      });
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
