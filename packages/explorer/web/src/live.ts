/** Live updates: one EventSource on /api/v1/events; views re-fetch when the grid changes. */
import { useEffect, useState } from "preact/hooks";

let source: EventSource | undefined;
const listeners = new Set<() => void>();
let last = "";

function ensure(): void {
  if (source) return;
  source = new EventSource("/api/v1/events");
  const fire = (e: MessageEvent) => { last = `${e.type}: ${String(e.data)}`; for (const l of listeners) l(); };
  source.addEventListener("nodes", fire);
  source.addEventListener("index", fire);
}

/** A counter that goes up on every live event: put it in a fetch effect's dependencies. */
export function useLive(): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    ensure();
    const l = () => setN((x) => x + 1);
    listeners.add(l);
    // a slow refresh as well: "answered recently" ages even when no event arrives
    const t = setInterval(l, 10_000);
    return () => { listeners.delete(l); clearInterval(t); };
  }, []);
  return n;
}

export function lastLiveEvent(): string {
  return last;
}

/** Fetches `load()` again whenever `deps` change or the grid changes. */
export function useData<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: string | undefined } {
  const tick = useLive();
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined }>({ data: undefined, error: undefined });
  useEffect(() => {
    let alive = true;
    load().then((data) => alive && setState({ data, error: undefined }), (e: unknown) => alive && setState((s) => ({ data: s.data, error: e instanceof Error ? e.message : String(e) })));
    return () => { alive = false; };
  }, [...deps, tick]);
  return state;
}
