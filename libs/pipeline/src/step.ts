import { type Db, errorMessage, type Sql } from "@edgeplane/db";
import type { JobContext, Producer } from "@edgeplane/queue";
import { DelayedError, UnrecoverableError } from "@edgeplane/queue";
import { enqueueNotify } from "./enqueue.ts";
import { type HeldLock, withAdvisoryLock } from "./lock.ts";

/** What a step that takes no lock is given: a lock that is never lost. */
const NO_LOCK: HeldLock = { signal: new AbortController().signal, assertHeld: () => {} };

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

export interface StepOptions {
  /**
   * Takes this advisory lock before anything is read, and holds it while the step runs: the state
   * the step is given is then the state no other holder of the lock changes under it. Steps that
   * change an environment's runtime take `environmentLock(id)`.
   */
  lock?: string;
}

/**
 * Runs one pipeline step for a verified job, top to bottom: take the lock when asked, load the
 * job's state once (refusing a job whose envelope does not match Postgres), skip superseded work
 * once (latest intent wins), reopen a failed deployment that runs again (retried from the ops
 * dashboard) while it is still its environment's current one, then run the step with that state.
 * A final failure (permanent, or the last attempt) is recorded on the deployment. Errors are
 * rethrown so BullMQ sees them.
 */
export async function runStep(
  deps: { db: Db; sql: Sql; producer: Producer },
  ctx: JobContext,
  step: (state: JobState, lock: HeldLock) => Promise<void>,
  options: StepOptions = {},
): Promise<void> {
  const { db, producer } = deps;
  const { envelope, job, log } = ctx;
  let state: JobState | undefined;
  try {
    const underLock = async (lock: HeldLock) => {
      state = await currentState(db, ctx);
      if (state) await step(state, lock);
    };
    await (options.lock ? withAdvisoryLock(deps.sql, options.lock, underLock) : underLock(NO_LOCK));
  } catch (error) {
    if (error instanceof DelayedError) throw error; // moved to delayed on purpose (waiting): not a failure
    const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final && state && envelope.deploymentId) {
      await failDeployment(db, envelope, errorMessage(error));
      log.warn({ err: errorMessage(error) }, "deployment failed");
      await enqueueNotify(producer, state.env, envelope.deploymentId, "failed", envelope.image).catch(
        () => {},
      );
    }
    throw error;
  }
}

/** The job's state, or undefined when a newer intent superseded it (its deployment is marked so). */
async function currentState(db: Db, { envelope, log }: JobContext): Promise<JobState | undefined> {
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
    return undefined;
  }
  if (state.deployment?.status === "failed" && (await reopenDeployment(db, state.deployment.id))) {
    log.info("failed deployment retried: reopened");
    return loadJobState(db, envelope);
  }
  return state;
}
