import { useEffect, useState } from "preact/hooks";
import { call, path, stream } from "../api.ts";
import { eventStreamParser } from "../sse.ts";
import type { DeploymentEvent } from "../types.ts";

interface Detail {
  events: DeploymentEvent[];
}

/**
 * A deployment's events with their messages (what a phase waits on, why it failed). While the
 * deployment is under way they arrive live as server-sent events (read with fetch, which sends the
 * console's header); if the stream cannot be had, the deployment is polled every second instead.
 */
export function DeploymentEvents({ id, live }: { id: string; live: boolean }) {
  const [events, setEvents] = useState<DeploymentEvent[]>([]);
  const [error, setError] = useState<string>();

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const detail = await call<Detail>("GET", path.deployment(id));
        if (!abort.signal.aborted) setEvents(detail.events);
      } catch (caught) {
        if (!abort.signal.aborted) setError((caught as Error).message);
      }
    };
    const poll = async () => {
      await load();
      if (!abort.signal.aborted) timer = setTimeout(poll, 1000);
    };
    if (!live) {
      void load();
    } else {
      const received: DeploymentEvent[] = [];
      const parse = eventStreamParser((event, data) => {
        if (event !== "phase") return;
        const { phase, message, at } = JSON.parse(data) as DeploymentEvent;
        received.push({ phase, message, at });
        setEvents([...received]);
      });
      stream(path.events(id), abort.signal, parse).catch(() => {
        if (!abort.signal.aborted) void poll();
      });
    }
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [id, live]);

  if (error) return <p class="error">{error}</p>;
  return (
    <ul class="events" data-testid="events">
      {events.map((e) => (
        <li key={`${e.at}-${e.phase}`}>
          <time dateTime={e.at}>{new Date(e.at).toLocaleTimeString()}</time> <b>{e.phase}</b>
          {e.message ? ` ${e.message}` : ""}
        </li>
      ))}
    </ul>
  );
}
