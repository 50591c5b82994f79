import type { Db } from "@edgeplane/db";
import type { JobContext, Producer } from "@edgeplane/queue";
import { DelayedError, UnrecoverableError } from "@edgeplane/queue";
import { enqueueNotify } from "./enqueue.ts";
import {
  EnvelopeMismatch,
  failDeployment,
  type JobState,
  loadJobState,
  markPhase,
  reopenDeployment,
} from "./state.ts";

/** A failure a human must act on: recorded on the deployment, never retried. */
export class PermanentFailure extends UnrecoverableError {
  override name = "PermanentFailure";
}

/**
 * Runs one pipeline step for a verified job: checks the envelope against Postgres, skips
 * superseded work (latest intent wins), and records the reason when a failure is final (a
 * permanent failure, or the last attempt). Errors are rethrown so BullMQ sees them. A job that runs
 * again for a deployment that already failed (retried from the ops dashboard) reopens it, if it is
 * still its environment's current deployment.
 */
export async function runStep(
  { db, producer }: { db: Db; producer: Producer },
  { envelope, job, log }: JobContext,
  step: (state: JobState) => Promise<void>,
): Promise<void> {
  let state: JobState;
  try {
    state = await loadJobState(db, envelope);
  } catch (error) {
    if (error instanceof EnvelopeMismatch) {
      log.warn({ reason: error.message }, "refused job: envelope does not match state");
      throw new UnrecoverableError(`refused: ${error.message}`);
    }
    throw error;
  }
  if (state.superseded) {
    if (await markPhase(db, envelope.deploymentId, "superseded"))
      log.info("superseded by a newer deployment");
    return;
  }
  if (state.deployment?.status === "failed" && (await reopenDeployment(db, state.deployment.id))) {
    log.info("failed deployment retried: reopened");
    state = await loadJobState(db, envelope);
  }
  try {
    await step(state);
  } catch (error) {
    if (error instanceof DelayedError) throw error; // moved to delayed on purpose (waiting): not a failure
    const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final && envelope.deploymentId) {
      await failDeployment(db, envelope, reasonOf(error));
      log.warn({ err: reasonOf(error) }, "deployment failed");
      await enqueueNotify(producer, state.env, envelope.deploymentId, "failed", envelope.image).catch(
        () => {},
      );
    }
    throw error;
  }
}

/** What a human is told: a failed query's own error, not its text and parameters (drizzle wraps them). */
function reasonOf(error: unknown): string {
  const e = error as Error;
  return e.cause instanceof Error && "query" in e ? e.cause.message : e.message;
}
