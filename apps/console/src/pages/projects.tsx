import { call, path } from "../api.ts";
import { usePoll } from "../poll.ts";
import { href } from "../route.ts";
import type { Project } from "../types.ts";

export function Projects() {
  const { data, error } = usePoll("projects", () => call<{ projects: Project[] }>("GET", path.projects()));
  return (
    <main>
      <h1>Projects</h1>
      {error ? <p class="error">{error.message}</p> : null}
      {data && data.projects.length === 0 ? <p class="muted">No projects this token may see.</p> : null}
      {data && data.projects.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>project</th>
              <th>domain</th>
              <th>repository</th>
            </tr>
          </thead>
          <tbody>
            {data.projects.map((p) => (
              <tr key={p.name} data-testid={`project-${p.name}`}>
                <td>
                  <a href={href.project(p.name)}>{p.name}</a>
                </td>
                <td>{p.domain}</td>
                <td>{p.repository ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </main>
  );
}
