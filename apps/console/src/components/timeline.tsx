import { elapsed } from "../format.ts";
import { type Deployment, PHASES } from "../types.ts";

/**
 * The phases a deployment went through, in order, each with the time since it was queued:
 * `queued → staging +0.4s → starting +2.1s → routing +3.0s → ready +3.4s`.
 */
export function Timeline({ deployment }: { deployment: Deployment }) {
  const queued = deployment.phases.queued ?? deployment.createdAt;
  const reached = PHASES.filter((phase) => deployment.phases[phase]);
  return (
    <ol class="timeline" data-testid="timeline">
      {reached.map((phase) => {
        const at = deployment.phases[phase] ?? "";
        return (
          <li key={phase} class={`phase phase-${phase}`} title={at}>
            <span class="phase-name">{phase}</span>
            {queued && phase !== "queued" ? <span class="phase-at">+{elapsed(queued, at)}</span> : null}
          </li>
        );
      })}
    </ol>
  );
}
