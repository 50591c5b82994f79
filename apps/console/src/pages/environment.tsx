import { useState } from "preact/hooks";
import { canDeploy } from "../access.ts";
import { ApiError, call, path } from "../api.ts";
import { DeploymentEvents } from "../components/events.tsx";
import { Logs } from "../components/logs.tsx";
import { Status } from "../components/status.tsx";
import { Timeline } from "../components/timeline.tsx";
import { age, pullRequestUrl, shortDigest } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../route.ts";
import {
  type Deployment,
  type Environment as EnvironmentView,
  type Me,
  type Project,
  TERMINAL_PHASES,
} from "../types.ts";

const GONE = ["destroying", "destroyed"];

/** What a redeploy asks for: the images the environment runs now, service by service for compose. */
function redeployBody(env: EnvironmentView) {
  const base = { project: env.project, environment: env.name };
  if (env.services)
    return { ...base, images: Object.fromEntries(env.services.map((s) => [s.name, s.image])) };
  return { ...base, image: env.image };
}

/**
 * One environment: its state, its deployment history (each with its phase timeline and events),
 * its logs, and, for a token that may deploy to the project, redeploy and destroy.
 */
export function Environment({ me, project, environment }: { me: Me; project: string; environment: string }) {
  const key = `${project}/${environment}`;
  const env = usePoll(`env:${key}`, () =>
    call<EnvironmentView>("GET", path.environment(project, environment)),
  );
  const history = usePoll(`deployments:${key}`, () =>
    call<{ deployments: Deployment[] }>("GET", path.deployments(project, environment)),
  );
  const info = usePoll(`project:${project}`, () => call<Project>("GET", path.project(project)), 10_000);
  const [showLogs, setShowLogs] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const [opened, setOpened] = useState<Record<string, boolean>>({});

  const act = async (what: () => Promise<string>) => {
    setFailure(undefined);
    setNotice(undefined);
    try {
      setNotice(await what());
    } catch (caught) {
      setFailure(caught instanceof ApiError ? caught.message : String(caught));
    }
    setConfirming(false);
    env.refresh();
    history.refresh();
  };
  const redeploy = (e: EnvironmentView) =>
    act(async () => {
      const d = await call<Deployment>("POST", "/v1/deployments", redeployBody(e));
      return `Deployment ${d.id} queued.`;
    });
  const destroy = () =>
    act(async () => {
      await call("DELETE", path.environment(project, environment));
      return `Destroying ${environment}.`;
    });

  const e = env.data;
  const repository = info.data?.repository ?? null;
  const mayDeploy = canDeploy(me, project);
  const error = env.error ?? history.error;

  return (
    <main>
      <nav class="crumbs">
        <a href={href.projects()}>projects</a> / <a href={href.project(project)}>{project}</a> /{" "}
        <span>{environment}</span>
      </nav>
      <h1>
        {environment} {e ? <Status value={e.status} /> : null}
      </h1>
      {error ? <p class="error">{error.message}</p> : null}
      {e ? (
        <dl class="facts" data-testid="environment">
          <dt>URL</dt>
          <dd>
            {GONE.includes(e.status) ? (
              e.url
            ) : (
              <a href={e.url} target="_blank" rel="noopener noreferrer">
                {e.url}
              </a>
            )}
          </dd>
          <dt>image</dt>
          <dd class="mono">{e.image ?? "—"}</dd>
          <dt>digest</dt>
          <dd class="mono" title={e.digest ?? ""}>
            {shortDigest(e.digest) || "—"}
          </dd>
          {e.services ? (
            <>
              <dt>services</dt>
              <dd>
                {e.services.map((s) => (
                  <div key={s.name} class="mono">
                    {s.name}: {s.image} {shortDigest(s.digest)} <Status value={s.status} />
                  </div>
                ))}
              </dd>
            </>
          ) : null}
          <dt>age</dt>
          <dd title={e.createdAt ?? ""}>{age(e.createdAt)}</dd>
          {e.pullRequest ? (
            <>
              <dt>pull request</dt>
              <dd>
                {repository ? (
                  <a
                    href={pullRequestUrl(repository, e.pullRequest.number)}
                    target="_blank"
                    rel="noopener noreferrer"
                  >
                    #{e.pullRequest.number}
                  </a>
                ) : (
                  `#${e.pullRequest.number}`
                )}
                {e.pullRequest.state ? ` (${e.pullRequest.state})` : ""}
              </dd>
            </>
          ) : null}
        </dl>
      ) : null}

      <div class="actions">
        <button type="button" onClick={() => setShowLogs(!showLogs)}>
          {showLogs ? "Hide logs" : "Show logs"}
        </button>
        {e && mayDeploy && !GONE.includes(e.status) ? (
          <>
            {e.image || e.services ? (
              <button type="button" onClick={() => redeploy(e)}>
                Redeploy
              </button>
            ) : null}
            {confirming ? (
              <span class="confirm">
                Destroy {environment}?{" "}
                <button type="button" class="danger" onClick={destroy}>
                  Confirm destroy
                </button>{" "}
                <button type="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button type="button" class="danger" onClick={() => setConfirming(true)}>
                Destroy
              </button>
            )}
          </>
        ) : null}
      </div>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      {failure ? (
        <p class="error" role="alert">
          {failure}
        </p>
      ) : null}
      {showLogs ? (
        <Logs project={project} environment={environment} live={!e || !GONE.includes(e.status)} />
      ) : null}

      <h2>Deployments</h2>
      {history.data && history.data.deployments.length === 0 ? <p class="muted">None yet.</p> : null}
      <ul class="deployments">
        {history.data?.deployments.map((d) => {
          const live = !TERMINAL_PHASES.includes(d.status);
          const open = opened[d.id] ?? d.id === e?.deploymentId;
          return (
            <li key={d.id} class="deployment" data-testid={`deployment-${d.id}`}>
              <div class="deployment-head">
                <span class="mono">{d.id}</span> <Status value={d.status} />{" "}
                <span class="mono">{d.image}</span>{" "}
                <span class="muted" title={d.createdAt ?? ""}>
                  {age(d.createdAt)} ago
                </span>{" "}
                <button type="button" class="link" onClick={() => setOpened({ ...opened, [d.id]: !open })}>
                  {open ? "hide events" : "events"}
                </button>
              </div>
              <Timeline deployment={d} />
              {d.statusDetail && live ? <p class="muted">{d.statusDetail}</p> : null}
              {d.error ? <p class="error">{d.error}</p> : null}
              {open ? <DeploymentEvents id={d.id} live={live} /> : null}
            </li>
          );
        })}
      </ul>
    </main>
  );
}
