import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, path, stream } from "../api.ts";

/** Lines kept on screen; older ones scroll away. */
const KEEP_LINES = 2000;
/** A stream that ended (the container was replaced by a redeploy, or stopped) is opened again after this. */
const RECONNECT_MS = 2000;

/**
 * The environment's container output, followed live (the last 200 lines, then whatever comes) until
 * closed. Read with fetch as a stream, so the console's header goes with it. When the stream ends
 * (a redeploy replaced the container) or there is no container yet, it is opened again, so the
 * panel follows whichever container serves the environment, for as long as it is not destroyed.
 */
export function Logs({
  project,
  environment,
  live,
}: {
  project: string;
  environment: string;
  live: boolean;
}) {
  const [text, setText] = useState("");
  const [state, setState] = useState("connecting…");
  const box = useRef<HTMLPreElement>(null);
  // read when a stream ends: an environment destroyed meanwhile has no container to wait for
  const stillLive = useRef(live);
  stillLive.current = live;

  useEffect(() => {
    const abort = new AbortController();
    let lines = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const append = (chunk: string) => {
      lines += chunk;
      const all = lines.split("\n");
      if (all.length > KEEP_LINES) lines = all.slice(-KEEP_LINES).join("\n");
      setText(lines);
    };
    const follow = async (attempt: number) => {
      setState(attempt === 0 ? "connecting…" : "reconnecting…");
      let received = false;
      try {
        await stream(path.logs(project, environment), abort.signal, (chunk) => {
          if (!received && attempt > 0 && lines) append("──── the stream was opened again ────\n");
          received = true;
          setState("following");
          append(chunk);
        });
        if (abort.signal.aborted) return;
        setState("stream ended; reconnecting…");
      } catch (caught) {
        if (abort.signal.aborted) return;
        // no access, or no such environment: nothing to wait for
        if (caught instanceof ApiError && [401, 403, 404].includes(caught.status)) {
          setState(`failed: ${caught.message}`);
          return;
        }
        setState(`${(caught as Error).message}; retrying…`);
      }
      if (!stillLive.current) {
        setState("stream ended");
        return;
      }
      timer = setTimeout(() => void follow(attempt + 1), RECONNECT_MS);
    };
    setText("");
    void follow(0);
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [project, environment]);

  useEffect(() => {
    const pre = box.current;
    if (pre) pre.scrollTop = pre.scrollHeight;
  }, [text]);

  return (
    <section class="logs">
      <p class="muted" data-testid="logs-state">
        {state}
      </p>
      <pre ref={box} data-testid="logs">
        {text}
      </pre>
    </section>
  );
}
