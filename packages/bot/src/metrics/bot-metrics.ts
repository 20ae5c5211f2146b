/**
 * The bots' metrics hook: counters a bot reports to, rendered in the Prometheus text format and
 * served on `/metrics` (the explorer, zosd and the hub do the same). The 3bot counts every heal it
 * attempts with `heal(kind, outcome)`; the local grid's example Prometheus config scrapes it.
 *
 * The interface the 3bot uses (and only this): `createBotMetrics({ bot, twin })` once, then
 * `metrics.heal("vm", "ok" | "failed")` per heal (kind = the workload kind it healed: vm,
 * gateway, zdb, network…), optionally `metrics.count(name, help, labels)` for other counters,
 * and `serveBotMetrics(metrics, { host, port })` when `zgrid bot run` starts.
 *
 * @example
 * ```ts
 * const metrics = createBotMetrics({ bot: "3bot", twin: 12 });
 * metrics.heal("vm", "ok");
 * const server = await serveBotMetrics(metrics, { host: "127.0.0.1", port: 0 });
 * // GET server.url → zgrid_bot_heals_total{bot="3bot",twin="12",kind="vm",outcome="ok"} 1
 * await server.close();
 * ```
 */
import { createServer } from "node:http";

export type HealOutcome = "ok" | "failed";

export interface BotMetrics {
  /** Counts one heal of a workload of `kind` (vm, gateway, zdb, network, …). */
  heal(kind: string, outcome: HealOutcome): void;
  /** Adds `by` (default 1) to the counter `name` (`zgrid_bot_…_total`) with these labels. */
  count(name: string, help: string, labels?: Record<string, string>, by?: number): void;
  /** The current value of a counter (0 when never counted). */
  value(name: string, labels?: Record<string, string>): number;
  /** Prometheus text exposition of every counter. */
  text(): string;
}

const NAME = /^zgrid_bot_[a-z0-9_]{1,64}_total$/;
const LABEL = /^[a-z_][a-z0-9_]{0,31}$/;
const MAX_SERIES = 1000;

function labelText(pairs: Record<string, string>): string {
  const body = Object.entries(pairs).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",");
  return body ? `{${body}}` : "";
}

export function createBotMetrics(o: { bot: string; twin: number }): BotMetrics {
  const counters = new Map<string, { help: string; series: Map<string, number> }>();
  const base = { bot: o.bot, twin: String(o.twin) };
  const key = (labels: Record<string, string>) => labelText({ ...base, ...labels });
  const m: BotMetrics = {
    count(name, help, labels = {}, by = 1) {
      if (!NAME.test(name)) throw new RangeError(`metric name ${name}: zgrid_bot_<a-z0-9_>_total`);
      for (const [k, v] of Object.entries(labels)) if (!LABEL.test(k) || v.length > 128) throw new RangeError(`metric label ${k}=${v.slice(0, 20)}: a-z0-9_ names, values ≤ 128 characters`);
      if (!Number.isFinite(by) || by < 0) throw new RangeError(`a counter only grows: ${by}`);
      let c = counters.get(name);
      if (!c) counters.set(name, (c = { help, series: new Map() }));
      const k = key(labels);
      if (!c.series.has(k) && c.series.size >= MAX_SERIES) return; // bounded: a runaway label set stops growing
      c.series.set(k, (c.series.get(k) ?? 0) + by);
    },
    heal(kind, outcome) {
      m.count("zgrid_bot_heals_total", "Heals the bot attempted, by workload kind and outcome.", { kind, outcome });
    },
    value(name, labels = {}) {
      return counters.get(name)?.series.get(key(labels)) ?? 0;
    },
    text() {
      const lines: string[] = [];
      // the heals counter is always present (0 before the first heal), so a scrape sees it at once
      if (!counters.has("zgrid_bot_heals_total")) lines.push("# HELP zgrid_bot_heals_total Heals the bot attempted, by workload kind and outcome.", "# TYPE zgrid_bot_heals_total counter", `zgrid_bot_heals_total${key({ kind: "none", outcome: "ok" })} 0`);
      for (const [name, c] of counters) {
        lines.push(`# HELP ${name} ${c.help.replace(/\n/g, " ")}`, `# TYPE ${name} counter`);
        for (const [labels, v] of c.series) lines.push(`${name}${labels} ${v}`);
      }
      return `${lines.join("\n")}\n`;
    },
  };
  return m;
}

/** Serves `metrics.text()` on GET /metrics. */
export async function serveBotMetrics(metrics: BotMetrics, o: { host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
      return;
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(metrics.text());
  });
  server.requestTimeout = 10_000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return { url: `http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}/metrics`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
