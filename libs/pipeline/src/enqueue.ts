import { jobIds, type Producer, QUEUES } from "@edgeplane/queue";

/**
 * Asks the GitHub reporter to bring the pull request's status up to date. The reporter is
 * level-triggered (it reports the environment's state when it runs), so one job per transition.
 */
export async function enqueueNotify(
  producer: Producer,
  env: { id: string; projectId: string; generation: number; pullRequest: number | null },
  deploymentId: string | null,
  transition: string,
  image: string | null = null,
): Promise<void> {
  if (env.pullRequest === null) return;
  await producer.enqueue(
    QUEUES.notify,
    { deploymentId, environmentId: env.id, projectId: env.projectId, generation: env.generation, image },
    jobIds.notify(env.id, env.generation, transition),
  );
}

/**
 * Enqueues a deployment's stage job, and withdraws the stage jobs of the deployments it superseded
 * while they were still `queued` (committed as superseded already): a burst of deploys to one
 * environment leaves the stage worker the latest one, not a backlog of jobs it would only skip. A
 * job a worker has taken already is left to it (it skips superseded work itself).
 */
export async function enqueueStage(
  producer: Producer,
  deployment: { id: string; projectId: string; environmentId: string; generation: number; image: string },
  superseded: readonly string[] = [],
) {
  await Promise.all([
    producer.enqueue(
      QUEUES.stage,
      {
        deploymentId: deployment.id,
        environmentId: deployment.environmentId,
        projectId: deployment.projectId,
        generation: deployment.generation,
        image: deployment.image,
      },
      jobIds.stage(deployment.id),
    ),
    superseded.length > 0 ? producer.withdraw(QUEUES.stage, superseded.map(jobIds.stage)) : undefined,
  ]);
}

/** The janitor owns teardown: containers, routes, and whatever else the environment holds. */
export async function enqueueTeardown(
  producer: Producer,
  env: { id: string; projectId: string; generation: number },
  retry?: string,
) {
  const jobId = jobIds.teardown(env.id, env.generation);
  await producer.enqueue(
    QUEUES.teardown,
    {
      deploymentId: null,
      environmentId: env.id,
      projectId: env.projectId,
      generation: env.generation,
      image: null,
    },
    retry ? `${jobId}-${retry}` : jobId,
  );
}
