/**
 * zosd's Prometheus text endpoint: VMs, workloads by type and state, provision latency (from the
 * node's own workload history: first `init` to the first `ok`/`error` of each workload version;
 * history timestamps are whole seconds), capacity total/used, and the bus. Served on its own
 * loopback port when the config has `metrics: { port }`.
 *
 * @example
 * ```ts
 * const server = await startMetricsServer({ port: 9101, text: () => zosMetricsText({ store, total, bus }) });
 * await server.close();
 * ```
 */
import { createServer } from "node:http";
import { busMetricsToPrometheus, type Bus } from "@zgrid/bus";
import type { Deployment } from "@zgrid/types";
import { usedCapacity } from "../engine/capacity-ledger.ts";
import type { DeploymentStore } from "../engine/deployment-store.ts";
import { isDeleted } from "../engine/provision-engine.ts";

const LATENCY_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300];
type Capacity = { cru: number; mru: number; sru: number; hru: number };

export function zosMetricsText(o: { store: Pick<DeploymentStore, "list" | "changes">; total: Capacity; bus?: Pick<Bus, "metrics"> }): string {
  const deployments: Deployment[] = o.store.list();
  const live = deployments.filter((d) => !isDeleted(d));
  const states = new Map<string, number>();
  let vms = 0;
  for (const d of live) {
    for (const w of d.workloads) {
      const state = w.result?.state ?? "none";
      const key = `type="${w.type}",state="${state}"`;
      states.set(key, (states.get(key) ?? 0) + 1);
      if (w.type === "zmachine" && state === "ok") vms++;
    }
  }
  const latencies: number[] = [];
  for (const d of deployments) {
    const started = new Map<string, number>();
    for (const c of o.store.changes(d.contract_id)) {
      const k = `${c.name}@${c.version}`;
      if (c.state === "init" && !started.has(k)) started.set(k, c.at);
      else if ((c.state === "ok" || c.state === "error") && started.has(k)) { latencies.push(Math.max(0, c.at - started.get(k)!)); started.delete(k); }
    }
  }
  const used = usedCapacity(live);
  const lines = [
    "# HELP zgrid_zos_vms Virtual machines running (zmachine workloads in state ok).", "# TYPE zgrid_zos_vms gauge", `zgrid_zos_vms ${vms}`,
    "# HELP zgrid_zos_deployments Live deployments.", "# TYPE zgrid_zos_deployments gauge", `zgrid_zos_deployments ${live.length}`,
    "# HELP zgrid_zos_workloads Workloads of live deployments by type and state.", "# TYPE zgrid_zos_workloads gauge",
    ...[...states].sort().map(([k, v]) => `zgrid_zos_workloads{${k}} ${v}`),
    "# HELP zgrid_zos_provision_seconds Time from a workload's acceptance to its first ok/error result (1 s resolution).",
    "# TYPE zgrid_zos_provision_seconds histogram",
    ...LATENCY_BUCKETS.map((b) => `zgrid_zos_provision_seconds_bucket{le="${b}"} ${latencies.filter((x) => x <= b).length}`),
    `zgrid_zos_provision_seconds_bucket{le="+Inf"} ${latencies.length}`,
    `zgrid_zos_provision_seconds_sum ${latencies.reduce((a, b) => a + b, 0)}`, `zgrid_zos_provision_seconds_count ${latencies.length}`,
    "# HELP zgrid_zos_capacity_total Node capacity (cru cores, others bytes).", "# TYPE zgrid_zos_capacity_total gauge",
    ...(["cru", "mru", "sru", "hru"] as const).map((k) => `zgrid_zos_capacity_total{resource="${k}"} ${o.total[k]}`),
    "# HELP zgrid_zos_capacity_used Capacity held by live workloads.", "# TYPE zgrid_zos_capacity_used gauge",
    ...(["cru", "mru", "sru", "hru"] as const).map((k) => `zgrid_zos_capacity_used{resource="${k}"} ${used[k]}`),
  ];
  return lines.join("\n") + "\n" + (o.bus ? busMetricsToPrometheus(o.bus.metrics()) : "");
}

/** A tiny loopback HTTP server answering GET /metrics. */
export async function startMetricsServer(o: { port: number; host?: string; text: () => string }): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") { res.writeHead(404).end("see /metrics\n"); return; }
    let body: string;
    try { body = o.text(); } catch { res.writeHead(500).end("metrics failed\n"); return; }
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(body);
  });
  await new Promise<void>((r, j) => { server.once("error", j); server.listen(o.port, o.host ?? "127.0.0.1", () => r()); });
  const port = (server.address() as { port: number }).port;
  return { url: `http://${o.host ?? "127.0.0.1"}:${port}/metrics`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
