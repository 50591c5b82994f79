import { useState } from "preact/hooks";
import { call, path } from "../api.ts";
import { Status } from "../components/status.tsx";
import { age, pullRequestUrl, shortDigest } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../route.ts";
import type { Environment, Project as ProjectView } from "../types.ts";

/** A project's environments: status, URL, image and digest, age, pull request. */
export function Project({ project }: { project: string }) {
  const [showDestroyed, setShowDestroyed] = useState(false);
  const info = usePoll(`project:${project}`, () => call<ProjectView>("GET", path.project(project)), 10_000);
  const list = usePoll(`environments:${project}:${showDestroyed}`, () =>
    call<{ environments: Environment[] }>("GET", path.environments(project, showDestroyed)),
  );
  const repository = info.data?.repository ?? null;
  const error = info.error ?? list.error;

  return (
    <main>
      <nav class="crumbs">
        <a href={href.projects()}>projects</a> / <span>{project}</span>
      </nav>
      <h1>{project}</h1>
      {info.data ? (
        <p class="muted">
          {info.data.domain}
          {repository ? ` · ${repository}` : ""}
        </p>
      ) : null}
      {error ? <p class="error">{error.message}</p> : null}
      <label class="toggle">
        <input
          type="checkbox"
          checked={showDestroyed}
          onChange={(e) => setShowDestroyed((e.currentTarget as HTMLInputElement).checked)}
        />{" "}
        show destroyed
      </label>
      {list.data && list.data.environments.length === 0 ? <p class="muted">No environments yet.</p> : null}
      {list.data && list.data.environments.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>environment</th>
              <th>status</th>
              <th>URL</th>
              <th>image</th>
              <th>digest</th>
              <th>age</th>
              <th>pull request</th>
            </tr>
          </thead>
          <tbody>
            {list.data.environments.map((e) => (
              <tr key={e.name} data-testid={`env-${e.name}`}>
                <td>
                  <a href={href.environment(project, e.name)}>{e.name}</a>
                  {e.kind === "fixed" ? <span class="muted"> fixed</span> : null}
                </td>
                <td>
                  <Status value={e.status} />
                </td>
                <td>
                  {e.status === "destroyed" ? (
                    <span class="muted">{e.url}</span>
                  ) : (
                    <a href={e.url} target="_blank" rel="noopener noreferrer">
                      {e.url}
                    </a>
                  )}
                </td>
                <td class="mono">{e.image ?? ""}</td>
                <td class="mono" title={e.digest ?? ""}>
                  {shortDigest(e.digest)}
                </td>
                <td title={e.createdAt ?? ""}>{age(e.createdAt)}</td>
                <td>
                  {e.pullRequest && repository ? (
                    <a
                      href={pullRequestUrl(repository, e.pullRequest.number)}
                      target="_blank"
                      rel="noopener noreferrer"
                    >
                      #{e.pullRequest.number}
                    </a>
                  ) : e.pullRequest ? (
                    `#${e.pullRequest.number}`
                  ) : (
                    ""
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </main>
  );
}
