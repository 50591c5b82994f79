import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { formatLogLine } from "./log-lines.ts";

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
}

interface Managed {
  spec: ProcessSpec;
  child: ChildProcess | null;
  restarts: number;
  startedAt: number;
}

/**
 * Runs each app as its own child process with prefixed, readable logs; restarts one that dies
 * (with backoff), and on stop() sends SIGTERM to all and waits for them under a deadline.
 */
export class Supervisor {
  private readonly managed = new Map<string, Managed>();
  private stopping = false;

  constructor(private readonly options: { write: (line: string) => void; jsonLogs?: boolean }) {}

  /** Starts `spec` and keeps it running; once stop() was called, starts nothing. */
  start(spec: ProcessSpec): void {
    if (this.stopping) return;
    const entry: Managed = { spec, child: null, restarts: 0, startedAt: 0 };
    this.managed.set(spec.name, entry);
    this.spawn(entry);
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.managed].map(([name, m]) => [name, m.child?.pid]));
  }

  private spawn(entry: Managed): void {
    const { spec } = entry;
    const child = spawn(spec.command, spec.args, {
      env: spec.env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    entry.child = child;
    entry.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) =>
        this.options.write(formatLogLine(spec.name, line, this.options.jsonLogs)),
      );
    }
    child.on("exit", (code, signal) => {
      entry.child = null;
      if (this.stopping) return;
      // a process that ran for a while gets a fresh backoff
      if (Date.now() - entry.startedAt > 30_000) entry.restarts = 0;
      const delay = Math.min(500 * 2 ** entry.restarts, 15_000);
      entry.restarts++;
      this.options.write(
        formatLogLine(
          "edgeplane",
          JSON.stringify({
            level: 50,
            msg: `${spec.name} exited (${signal ?? code}); restarting in ${delay}ms`,
          }),
        ),
      );
      setTimeout(() => {
        if (!this.stopping) this.spawn(entry);
      }, delay).unref();
    });
  }

  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    const running = [...this.managed.values()].flatMap((m) => (m.child ? [m.child] : []));
    const exited = running.map(
      (child) => new Promise<void>((resolve) => child.once("exit", () => resolve())),
    );
    for (const child of running) child.kill("SIGTERM");
    const timedOut = await Promise.race([
      Promise.all(exited).then(() => false),
      sleep(deadlineMs).then(() => true),
    ]);
    if (timedOut) for (const child of running) if (child.exitCode === null) child.kill("SIGKILL");
  }
}
