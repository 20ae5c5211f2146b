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
  return `${lines.join("\n")}\n`;
}
