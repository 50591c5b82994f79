import { environments, eq } from "@edgeplane/db";
import { environmentUrl, type PublicUrls } from "@edgeplane/domain";
import { type DeploymentStatusState, type GithubStatusClient, renderStickyComment } from "@edgeplane/github";
import type { WorkerDeps } from "@edgeplane/queue";
import { type JobContext, UnrecoverableError } from "@edgeplane/queue";
import { hasTls } from "@edgeplane/tls";
import { withAdvisoryLock } from "../lock.ts";
import { EnvelopeMismatch, loadJobState } from "../state.ts";

export interface NotifyDeps extends WorkerDeps {
  github: GithubStatusClient;
  urls: PublicUrls;
}

const STATE_OF: Record<string, DeploymentStatusState | null> = {
  pending: "in_progress",
  deploying: "in_progress",
  ready: "success",
  failed: "failure",
  sleeping: null,
  destroying: null,
  destroyed: "inactive",
};

/**
 * notify: brings the pull request's view of its preview up to date, level-triggered: a GitHub
 * Deployment per edgeplane deployment with a status for the environment's current state, and one
 * sticky comment updated in place. Failures are retried by the queue and never touch the deploy.
 */
export function reportToGithub(deps: NotifyDeps) {
  return async ({ envelope, log }: JobContext) => {
    // one report at a time per environment, of the state as it is under the lock
    await withAdvisoryLock(deps.sql, `notify:${envelope.environmentId}`, async () => {
      const { project, env } = await loadJobState(deps.db, envelope).catch((error: unknown) => {
        if (error instanceof EnvelopeMismatch) throw new UnrecoverableError(`refused: ${error.message}`);
        throw error;
      });
      if (!project.repository || env.pullRequest === null) return;
      const [owner = "", repo = ""] = project.repository.split("/");
      const ghState = STATE_OF[env.status];
      if (!ghState) return;
      const url = environmentUrl(env.hostname, hasTls(project.tls), deps.urls);
      const key = env.currentDeploymentId ?? "pending";
      const [reportedKey, reportedId] = (env.githubDeploymentId ?? "").split(":");
      let githubId = reportedId ? Number(reportedId) : null;
      if ((githubId === null || reportedKey !== key) && ghState !== "inactive") {
        githubId = await deps.github.createDeployment({
          owner,
          repo,
          ref: env.headSha ?? `refs/pull/${env.pullRequest}/head`,
          environment: `${project.name}/${env.name}`,
          description: `edgeplane preview ${env.name}`,
        });
        await deps.db
          .update(environments)
          .set({ githubDeploymentId: `${key}:${githubId}` })
          .where(eq(environments.id, env.id));
      }
      if (githubId !== null) {
        await deps.github.createDeploymentStatus(owner, repo, githubId, {
          state: ghState,
          ...(ghState === "success" ? { environment_url: url } : {}),
          description:
            ghState === "failure"
              ? "deployment failed: see the deployment in edgeplane"
              : `preview ${env.status}`,
        });
      }
      await deps.github.upsertStickyComment(
        owner,
        repo,
        env.pullRequest,
        renderStickyComment({
          environment: env.name,
          url: ghState === "success" ? url : null,
          state: ghState,
          sha: env.headSha ?? "",
          updatedAt: new Date(),
        }),
      );
      log.info({ state: ghState, pullRequest: env.pullRequest }, "reported to GitHub");
    });
  };
}
