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
