import { setTimeout as sleep } from "node:timers/promises";
import { childPids, isProcessAlive, processTitle } from "./proc.ts";

/**
 * Sends SIGHUP to an nginx master and resolves once only the new config takes new requests: new
 * workers run and every worker from before has stopped accepting (gone, or retitled "is shutting
 * down" once the master told it to quit). The returned `drained` resolves once every old worker has
 * exited (they finish their in-flight requests first, bounded by worker_shutdown_timeout): only
 * then may an upstream that only the old config pointed at go.
 */
export async function reload(masterPid: number, timeoutMs = 15_000): Promise<{ drained: Promise<void> }> {
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
    if (now.some((pid) => !before.has(pid))) {
      const old = now.filter((pid) => before.has(pid));
      const titles = await Promise.all(old.map((pid) => processTitle(pid)));
      if (titles.every((title) => title === undefined || title.includes("shutting down"))) break;
    }
    await tick(masterPid, deadline, "the new workers to take over");
  }
  const drained = (async () => {
    while ([...(await childPids(masterPid))].some((pid) => before.has(pid))) {
      await tick(masterPid, deadline, "old workers to exit", 20);
    }
  })();
  drained.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  return { drained };
}

async function tick(masterPid: number, deadline: number, waitingFor: string, ms = 5): Promise<void> {
  if (!(await isProcessAlive(masterPid))) throw new Error(`nginx master ${masterPid} exited during reload`);
  if (Date.now() > deadline) throw new Error(`nginx reload timed out waiting for ${waitingFor}`);
  await sleep(ms);
}
