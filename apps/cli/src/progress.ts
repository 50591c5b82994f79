import type { DeploymentView } from "@edgeplane/services";
import type { Ora } from "ora";
import { seconds } from "./output.ts";

/** A phase event as `GET /v1/deployments/{id}/events` sends it. */
export interface PhaseEvent {
  id?: string | undefined;
  phase: string;
  message: string | null;
  at: string;
  status: string;
}

/** How a deployment's progress is shown while the CLI follows it. */
export interface Progress {
  phase(event: PhaseEvent): void;
  /** The deployment ended (ready, failed or superseded); `view` is how the API showed it. */
  end(view: DeploymentView): void;
}

type Write = (text: string) => void;

/**
 * Plain lines for logs and pipes: `staging +0.2s`, with the event's message if it has one; the
 * time is counted from when the deployment was queued (the API's clock, so replayed events are
 * placed right). Ends with the URL when ready.
 */
export function plainProgress(queuedAt: number, write: Write): Progress {
  return {
    phase(event) {
      const line = `${event.phase} +${seconds(Date.parse(event.at) - queuedAt)}`;
      write(`${event.message ? `${line}  ${event.message}` : line}\n`);
    },
    end(view) {
      if (view.status === "ready") write(`${view.url}\n`);
    },
  };
}

/** One JSON object per line: each event (`"event": "phase"`), then the deployment as the API shows it. */
export function jsonProgress(queuedAt: number, write: Write): Progress {
  return {
    phase(event) {
      const elapsed = Math.max(0, Date.parse(event.at) - queuedAt) / 1000;
      write(`${JSON.stringify({ event: "phase", ...event, elapsed })}\n`);
    },
    end(view) {
      write(`${JSON.stringify(view)}\n`);
    },
  };
}

/**
 * A spinner on a terminal: the current phase with the time spent in it so far (`staging 0.4s`),
 * each finished phase kept as a line with its duration, the URL at the end. `ora` is passed in,
 * loaded by the caller only for a terminal: every other command, `up` included, does without it.
 */
export function spinnerProgress(
  queuedAt: number,
  stream: NodeJS.WriteStream,
  ora: typeof import("ora").default,
): Progress {
  let spinner: Ora | null = null;
  let current: { phase: string; since: number; message: string | null } | null = null;
  let timer: NodeJS.Timeout | null = null;
  const text = () =>
    current
      ? `${current.phase} ${seconds(Date.now() - current.since)}${current.message ? `  ${current.message}` : ""}`
      : "";
  const finish = (symbol: string) => {
    if (timer) clearInterval(timer);
    timer = null;
    spinner?.stopAndPersist({ symbol, text: text() });
    spinner = null;
  };
  return {
    phase(event) {
      const at = Math.min(Date.parse(event.at), Date.now());
      if (current?.phase === event.phase) {
        current.message = event.message;
        if (spinner) spinner.text = text();
        return;
      }
      if (current) finish(event.phase === "failed" || event.phase === "superseded" ? "✖" : "✔");
      current = { phase: event.phase, since: at, message: event.message };
      if (["ready", "failed", "superseded"].includes(event.phase)) return;
      spinner = ora({ text: text(), stream, discardStdin: false, isEnabled: true }).start();
      timer = setInterval(() => {
        if (spinner) spinner.text = text();
      }, 100);
    },
    end(view) {
      if (timer) clearInterval(timer);
      spinner?.stop();
      spinner = null;
      const symbol = view.status === "ready" ? "✔" : "✖";
      const ended = Date.parse(view.phases[view.status] ?? "") || Date.now();
      stream.write(`${symbol} ${view.status} after ${seconds(ended - queuedAt)}\n`);
      if (view.status === "ready") stream.write(`${view.url}\n`);
    },
  };
}
