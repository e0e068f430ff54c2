// Data hooks: load on mount and on demand, and poll while something is still moving.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { messageOf } from "./api.ts";

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Runs `load` now and whenever `deps` change. With `pollMs`, runs it again every `pollMs` while
 * `keepPolling(data)` says so (e.g. a backup is still running), so long operations show live status.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
  poll?: { ms: number; while: (data: T) => boolean },
): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError(messageOf(e));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, deps);

  const polling = poll !== undefined && data !== undefined && poll.while(data);
  useEffect(() => {
    if (!polling || !poll) return;
    const timer = setInterval(() => void reload(), poll.ms);
    return () => clearInterval(timer);
  }, [polling, poll?.ms, reload]);

  return { data, error, loading, reload };
}

/** A button's action: runs once at a time, keeps its error for display. */
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(
    async (...args: A): Promise<boolean> => {
      setBusy(true);
      setError(null);
      try {
        await action(...args);
        return true;
      } catch (e) {
        setError(e);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [action],
  );
  return { run, busy, error, clearError: () => setError(null) };
}
