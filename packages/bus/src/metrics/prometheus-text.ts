/**
 * Renders a bus metrics snapshot in the Prometheus text exposition format, so a node daemon can
 * serve it on its /metrics endpoint as it is.
 *
 * @example
 * ```ts
 * res.end(busMetricsToPrometheus(bus.metrics(), { twin: String(bus.twinId) }));
 * // zgrid_bus_requests_total{direction="outbound",twin="12"} 1042
 * ```
 */
import type { BusMetricsSnapshot, DirectionSnapshot } from "./bus-metrics.ts";

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
  return `{${body}}`;
}

export function busMetricsToPrometheus(snapshot: BusMetricsSnapshot, extraLabels: Record<string, string> = {}): string {
  const lines = [
    "# HELP zgrid_bus_requests_total Bus requests sent (outbound) or received (inbound).",
    "# TYPE zgrid_bus_requests_total counter",
    "# HELP zgrid_bus_errors_total Bus requests that ended in an error, by code.",
    "# TYPE zgrid_bus_errors_total counter",
    "# HELP zgrid_bus_latency_ms Bus request latency in milliseconds.",
    "# TYPE zgrid_bus_latency_ms histogram",
    "# HELP zgrid_bus_channels Open outbound bus channels.",
    "# TYPE zgrid_bus_channels gauge",
  ];
  const direction = (name: "outbound" | "inbound", d: DirectionSnapshot): void => {
    const base = { ...extraLabels, direction: name };
    lines.push(`zgrid_bus_requests_total${labels(base)} ${d.requests}`);
    for (const [code, n] of Object.entries(d.errors)) lines.push(`zgrid_bus_errors_total${labels({ ...base, code })} ${n}`);
    for (const b of d.latencyMs.buckets) lines.push(`zgrid_bus_latency_ms_bucket${labels({ ...base, le: String(b.le) })} ${b.count}`);
    lines.push(`zgrid_bus_latency_ms_sum${labels(base)} ${d.latencyMs.sumMs}`);
    lines.push(`zgrid_bus_latency_ms_count${labels(base)} ${d.latencyMs.count}`);
  };
  direction("outbound", snapshot.outbound);
  direction("inbound", snapshot.inbound);
  lines.push(`zgrid_bus_channels${labels(extraLabels)} ${snapshot.channels}`);
  // The inbound guard (strangers and per-twin buffers): gauges, then counters.
  const g = snapshot.guard;
  lines.push(
    "# HELP zgrid_bus_unproven_connections Inbound connections without a verified signed request yet.",
    "# TYPE zgrid_bus_unproven_connections gauge",
    `zgrid_bus_unproven_connections${labels(extraLabels)} ${g.unprovenConnections}`,
    "# HELP zgrid_bus_buffered_bytes Bytes of unfinished inbound frames held, by peer class.",
    "# TYPE zgrid_bus_buffered_bytes gauge",
    `zgrid_bus_buffered_bytes${labels({ ...extraLabels, peers: "unproven" })} ${g.unprovenBufferedBytes}`,
    `zgrid_bus_buffered_bytes${labels({ ...extraLabels, peers: "proven" })} ${g.provenBufferedBytes}`,
    "# HELP zgrid_bus_guard_actions_total Connections refused, streams refused or reset, idle strangers closed.",
    "# TYPE zgrid_bus_guard_actions_total counter",
    `zgrid_bus_guard_actions_total${labels({ ...extraLabels, action: "refused_connection" })} ${g.refusedConnections}`,
    `zgrid_bus_guard_actions_total${labels({ ...extraLabels, action: "refused_stream" })} ${g.refusedStreams}`,
    `zgrid_bus_guard_actions_total${labels({ ...extraLabels, action: "reset_stream" })} ${g.resetStreams}`,
    `zgrid_bus_guard_actions_total${labels({ ...extraLabels, action: "closed_idle" })} ${g.closedIdle}`,
  );
  return `${lines.join("\n")}\n`;
}
