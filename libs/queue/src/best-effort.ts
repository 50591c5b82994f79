import type { Logger } from "@edgeplane/log";
import type { Producer } from "./queues.ts";

/**
 * A producer for request handlers, whose intent is already committed to Postgres when they
 * enqueue: an enqueue that fails or takes longer than `timeoutMs` (Redis down or restarting) is
 * logged and swallowed, so the caller still answers. Nothing is lost: the janitor's resync
 * re-derives the missing job from Postgres within its interval.
 * Workers must not use this: a step whose follow-up cannot be enqueued has to fail and be retried.
 */
export function bestEffortProducer(
  producer: Producer,
  options: { log: Logger; timeoutMs: number },
): Producer {
  // the call, bounded by the timeout; a failure is logged, never thrown
  const bounded = async (call: Promise<void>, onFailure: (message: string) => void) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${options.timeoutMs}ms`)),
        options.timeoutMs,
      );
    });
    try {
      await Promise.race([call, timeout]);
    } catch (error) {
      onFailure((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    enqueue: (queue, input, jobId, jobOptions) =>
      bounded(producer.enqueue(queue, input, jobId, jobOptions), (err) =>
        options.log.warn({ queue, jobId, err }, "enqueue failed after commit; the resync will enqueue it"),
      ),
    // a job left behind costs a worker a skip, nothing more
    withdraw: (queue, jobIds) =>
      bounded(producer.withdraw(queue, jobIds), (err) =>
        options.log.warn(
          { queue, jobs: jobIds.length, err },
          "superseded jobs not withdrawn; workers skip them",
        ),
      ),
    close: () => producer.close(),
  };
}
