/**
 * `zgrid metrics [--prometheus DIR]`: the local grid's Prometheus endpoints; with `--prometheus`,
 * a ready Prometheus setup in DIR: the example config (examples/prometheus.yml) and its file_sd
 * target files for the running grid (node daemons, hub, explorer, and the 3bot of this data dir
 * when `zgrid bot run` is running; otherwise targets-bot.json is kept as it is).
 *
 * @example
 * ```sh
 * zgrid metrics --prometheus /tmp/prom && prometheus --config.file /tmp/prom/prometheus.yml --storage.tsdb.path /tmp/prom/data
 * ```
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { sdk, type Ctx } from "../context.ts";
import { table } from "../output.ts";
import { readBotMetricsUrl } from "./bot-metrics-file.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/prometheus.yml", import.meta.url));

type Target = { targets: string[]; labels: Record<string, string> };

/** The grid's metrics URLs as file_sd groups, by job (node, hub, explorer). */
export function prometheusTargets(metrics: Record<string, string>): Record<"node" | "hub" | "explorer", Target[]> {
  const out: Record<"node" | "hub" | "explorer", Target[]> = { node: [], hub: [], explorer: [] };
  for (const [name, url] of Object.entries(metrics)) {
    const u = new URL(url);
    const target = { targets: [u.host], labels: { __metrics_path__: u.pathname, grid: "local" } as Record<string, string> };
    const node = /^node (\d+)$/.exec(name);
    if (node) out.node.push({ ...target, labels: { ...target.labels, node: node[1]! } });
    else if (name === "hub" || name === "explorer") out[name].push(target);
  }
  return out;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 2) + "\n");
  renameSync(`${path}.tmp`, path); // Prometheus re-reads file_sd files: never a half-written one
}

export function registerMetricsCommands(program: Command, ctx: Ctx): void {
  program.command("metrics").description("local grid: its Prometheus endpoints; --prometheus DIR writes a Prometheus config scraping them")
    .option("--prometheus <dir>", "write prometheus.yml (examples/prometheus.yml) and its target files into DIR")
    .action(async (o: { prometheus?: string }) => {
      const { opts, io } = ctx();
      const { readLocalGrid, LocalGridError } = await sdk();
      const info = readLocalGrid(opts.dataDir);
      if (!info.metrics || Object.keys(info.metrics).length === 0) throw new LocalGridError("this local grid reports no metrics endpoints", { hint: "restart it with `zgrid down` and `zgrid up`" });
      const bot = readBotMetricsUrl(opts.dataDir);
      const all = { ...info.metrics, ...(bot ? { "3bot": bot.url } : {}) };
      const rows = Object.entries(all).map(([name, url]) => ({ name, url }));
      if (!o.prometheus) {
        io.result(all, () => table(rows, ["name", "url"]));
        return;
      }
      const dir = resolve(o.prometheus);
      mkdirSync(dir, { recursive: true });
      copyFileSync(EXAMPLE, join(dir, "prometheus.yml"));
      const targets = prometheusTargets(info.metrics);
      for (const job of ["node", "hub", "explorer"] as const) writeJson(join(dir, `targets-${job}.json`), targets[job]);
      // the running `zgrid bot run` of this data dir; other bots registered by hand are kept
      if (bot) writeJson(join(dir, "targets-bot.json"), [{ targets: [new URL(bot.url).host], labels: { bot: "3bot", twin: String(bot.twin), grid: "local" } }]);
      else if (!existsSync(join(dir, "targets-bot.json"))) writeJson(join(dir, "targets-bot.json"), []);
      const config = join(dir, "prometheus.yml");
      io.result({ config, targets }, () => [
        `wrote ${config} and its targets (${rows.length} endpoints)`,
        `run: prometheus --config.file ${config} --storage.tsdb.path ${join(dir, "data")} --web.listen-address 127.0.0.1:9090`,
      ].join("\n"));
    });
}
