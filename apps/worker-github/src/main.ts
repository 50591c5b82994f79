import { exitOnConfigError, loadConfig, notifyEnv } from "@edgeplane/config";
import { GithubStatusClient } from "@edgeplane/github";
import { reportToGithub } from "@edgeplane/pipeline";
import { bootWorker, QUEUES } from "@edgeplane/queue";

try {
  const env = loadConfig(notifyEnv);
  const token = env.EDGEPLANE_GITHUB_TOKEN;
  await bootWorker({
    name: "worker-github",
    queue: QUEUES.notify,
    env,
    setup: async (deps) => {
      if (!token) {
        deps.log.info("EDGEPLANE_GITHUB_TOKEN not set: pull request status reporting is off");
        return async () => {};
      }
      return reportToGithub({
        ...deps,
        github: new GithubStatusClient({
          baseUrl: env.EDGEPLANE_GITHUB_API_URL,
          token,
          timeoutMs: env.EDGEPLANE_GITHUB_TIMEOUT_MS,
        }),
        urls: {
          scheme: env.EDGEPLANE_PUBLIC_SCHEME,
          port: env.EDGEPLANE_PUBLIC_PORT ?? env.EDGEPLANE_GATEWAY_PORT,
          httpsPort: env.EDGEPLANE_GATEWAY_HTTPS_PORT,
        },
      });
    },
  });
} catch (error) {
  exitOnConfigError(error);
}
