import { api, bytes, type Stats } from "../api.ts";
import { useData } from "../live.ts";

export function Bar({ used, total, label }: { used: number; total: number; label: string }) {
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  return (
    <div class="bar" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
      <div style={{ width: `${pct}%` }} />
    </div>
  );
}

export function Overview() {
  const { data: s, error } = useData(() => api<Stats>("/api/v1/stats"), []);
  if (!s) return <p role="status">{error ?? "Loading…"}</p>;
  const cap = (k: "cru" | "mru" | "sru" | "hru", label: string, fmt: (n: number) => string) => (
    <div class="cap">
      <div class="cap-head"><span>{label}</span><span>{fmt(s.capacity.used[k])} used of {fmt(s.capacity.total[k])}</span></div>
      <Bar used={s.capacity.used[k]} total={s.capacity.total[k]} label={`${label} used`} />
    </div>
  );
  const n = s.nodes;
  return (
    <>
      <h1>Grid overview</h1>
      <section class="cards" aria-label="nodes" aria-live="polite">
        <a class="card up" href="#/nodes?status=up"><strong data-testid="nodes-up">{n.up}</strong><span>nodes up</span></a>
        <a class="card standby" href="#/nodes?status=standby"><strong data-testid="nodes-standby">{n.standby}</strong><span>standby</span></a>
        <a class="card down" href="#/nodes?status=down"><strong data-testid="nodes-down">{n.down}</strong><span>down</span></a>
        <div class="card"><strong>{s.contracts.active}</strong><span>active contracts</span></div>
        <div class="card"><strong>{s.farms}</strong><span>farms</span></div>
        <div class="card"><strong>{s.public_ips.free}/{s.public_ips.total}</strong><span>public IPs free</span></div>
      </section>
      <div class="split" role="img" aria-label={`${n.up} up, ${n.standby} standby, ${n.down} down`}>
        {n.total > 0 && <>
          <div class="up" style={{ flex: n.up }} />
          <div class="standby" style={{ flex: n.standby }} />
          <div class="down" style={{ flex: n.down }} />
        </>}
      </div>
      <section aria-label="capacity">
        <h2>Capacity</h2>
        {cap("cru", "CPU cores", (x) => String(x))}
        {cap("mru", "Memory", bytes)}
        {cap("sru", "SSD", bytes)}
        {cap("hru", "HDD", bytes)}
      </section>
      <p class="muted">Indexed block {s.index.indexed ?? "–"} of {s.index.head ?? "–"} · {s.twins} twins · {s.deployments} deployments · {s.countries} countries</p>
    </>
  );
}
