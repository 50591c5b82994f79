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
  return {
    async enqueue(queue, input, jobId, jobOptions) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`enqueue timed out after ${options.timeoutMs}ms`)),
          options.timeoutMs,
        );
      });
      try {
        await Promise.race([producer.enqueue(queue, input, jobId, jobOptions), timeout]);
      } catch (error) {
        options.log.warn(
          { queue, jobId, err: (error as Error).message },
          "enqueue failed after commit; the resync will enqueue it",
        );
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => producer.close(),
  };
}
