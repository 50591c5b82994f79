import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api.ts";

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** Loads again now (after an action), without waiting for the next tick. */
  refresh: () => void;
}

/**
 * Loads with `load` now and again every `intervalMs` after each answer (never two at once), until
 * the page goes away or `key` changes: the pages follow the API live without a reload.
 */
export function usePoll<T>(key: string, load: () => Promise<T>, intervalMs = 1000): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const wake = useRef<() => void>(() => {});
  const loader = useRef(load);
  loader.current = load;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setData(undefined);
    setError(undefined);
    const tick = async () => {
      clearTimeout(timer);
      try {
        const next = await loader.current();
        if (stopped) return;
        setData(next);
        setError(undefined);
      } catch (caught) {
        if (stopped) return;
        setError(caught instanceof ApiError ? caught : new ApiError(0, "unreachable", String(caught)));
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    wake.current = () => void tick();
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key, intervalMs]);

  return { data, error, refresh: () => wake.current() };
}
