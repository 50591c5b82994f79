import { setTimeout as sleep } from "node:timers/promises";
import { childPids, isProcessAlive } from "./proc.ts";

/**
 * Sends SIGHUP to an nginx master and resolves once the reload has fully taken effect: new workers
 * exist and every worker from before has exited, so no request is served by the old config any more.
 * Old workers finish their in-flight requests first (bounded by worker_shutdown_timeout).
 */
export async function reloadAndWait(masterPid: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A master that has only just started may not have forked its first workers yet; those would
  // otherwise be mistaken for the reloaded ones.
  let before = await childPids(masterPid);
  while (before.size === 0) {
    await tick(masterPid, deadline, "to start its workers");
    before = await childPids(masterPid);
  }

  process.kill(masterPid, "SIGHUP");
  for (;;) {
    const now = [...(await childPids(masterPid))];
    const started = now.some((pid) => !before.has(pid));
    const draining = now.some((pid) => before.has(pid));
    if (started && !draining) return;
    await tick(masterPid, deadline, started ? "old workers to exit" : "new workers to start");
  }
}

async function tick(masterPid: number, deadline: number, waitingFor: string): Promise<void> {
  if (!(await isProcessAlive(masterPid))) throw new Error(`nginx master ${masterPid} exited during reload`);
  if (Date.now() > deadline) throw new Error(`nginx reload timed out waiting for ${waitingFor}`);
  await sleep(20);
}
