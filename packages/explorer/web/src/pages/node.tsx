import { useMemo } from "preact/hooks";
import { ago, api, bytes, GIB, type NodeView, type Sample } from "../api.ts";
import { TimeChart } from "../chart.tsx";
import { useData } from "../live.ts";
import { Bar } from "./overview.tsx";

export function NodePage({ id }: { id: number }) {
  const { data: n, error } = useData(() => api<NodeView>(`/api/v1/nodes/${id}`), [id]);
  const { data: hist } = useData(() => api<{ items: Sample[] }>(`/api/v1/nodes/${id}/capacity?hours=24`), [id]);
  const chart = useMemo(() => {
    const items = hist?.items ?? [];
    return {
      times: items.map((s) => s.at / 1000),
      series: [
        { label: "memory used (GiB)", values: items.map((s) => s.used_mru / GIB), color: "#3b82f6" },
        { label: "vCPUs used", values: items.map((s) => s.used_cru), color: "#f59e0b", scale: "cpu" },
      ],
    };
  }, [hist]);
  if (!n) return <p role="status" class={error ? "error" : ""}>{error ?? "Loading…"}</p>;
  const row = (k: string, v: unknown) => <><dt>{k}</dt><dd>{String(v)}</dd></>;
  return (
    <>
      <h1>Node {n.id} <span class={`badge ${n.status}`} data-testid="node-status">{n.status}</span></h1>
      <div class="grid2">
        <section aria-label="details">
          <dl>
            {row("Farm", `${n.farm_name} (${n.farm_id})`)}{row("Twin", n.twin_id)}
            {row("Location", [n.location.city, n.location.country].filter(Boolean).join(", ") || "–")}
            {row("Version", n.version || "–")}{row("Last answered", ago(n.last_seen))}
            {row("Uptime", `${Math.round(n.uptime / 3600)} h (reported ${ago(n.last_uptime_report * 1000)})`)}
            {row("Power", `target ${n.power.target}, state ${n.power.state}`)}
            {row("Deployments", `${n.deployments} (${n.workloads} workloads)`)}
            {row("Rented by", n.rented_by ?? "–")}{row("Public IPv4", n.public_config.ip4 || "–")}{row("Domain", n.public_config.domain || "–")}
          </dl>
        </section>
        <section aria-label="capacity">
          <h2>Free capacity</h2>
          {(["cru", "mru", "sru", "hru"] as const).map((k) => (
            <div class="cap" key={k}>
              <div class="cap-head"><span>{{ cru: "vCPUs", mru: "Memory", sru: "SSD", hru: "HDD" }[k]}</span>
                <span>{k === "cru" ? n.free.cru : bytes(n.free[k])} free of {k === "cru" ? `${n.total.cru * 4} (${n.total.cru} cores × 4)` : bytes(n.total[k])}</span></div>
              <Bar used={sellable(n, k) - Math.min(sellable(n, k), n.free[k])} total={sellable(n, k)} label={`${k} used`} />
            </div>
          ))}
        </section>
      </div>
      <section aria-label="capacity over time">
        <TimeChart title="Used capacity, last 24 hours" times={chart.times} series={chart.series} />
        {chart.times.length === 0 && <p class="muted">No samples yet: the node has not answered the explorer.</p>}
      </section>
    </>
  );
}

/** What a node sells of a resource: vCPUs are its cores × 4 (the node's overcommit). */
function sellable(n: NodeView, k: "cru" | "mru" | "sru" | "hru"): number {
  return k === "cru" ? n.total.cru * 4 : n.total[k];
}
