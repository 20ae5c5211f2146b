/**
 * `zgrid bot run|apply|status|events|rm`: the twin's 3bot. `run` is the long-running process
 * (stop with SIGTERM/Ctrl-C; safe to SIGKILL and start again); the other verbs talk to it through
 * its database (`<data dir>/3bot.db`, or `--db`), so they work on the machine the bot runs on;
 * `status --bus` asks the running bot over the bus instead (from any machine with the twin key).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { BotEvent, BotStatus } from "@zgrid/bot";
import { openGrid, type Ctx } from "../context.ts";
import { table } from "../output.ts";
import { botDbOf, storeBotSpec } from "./bot-apply.ts";
import { clearBotMetricsUrl, writeBotMetricsUrl } from "./bot-metrics-file.ts";

const dbOf = botDbOf;

export function registerBotCommands(program: Command, ctx: Ctx): void {
  const bot = program.command("bot").description("your 3bot: keeps services alive (self-healing across nodes, rolling updates, orphan contracts cancelled)");
  bot.command("run").description("run the 3bot in the foreground")
    .option("--db <file>", "its database (default <data dir>/3bot.db)")
    .option("--window <seconds>", "a node silent this long (several probes, no uptime proof) is dead", "30")
    .option("--interval <seconds>", "seconds between passes", "5")
    .option("--orphan-grace <seconds>", "a contract with no deployment is cancelled after this", "300")
    .option("--warn-hours <hours>", "warn when the balance lasts less than this at the current burn", "72")
    .option("--top-up-from <address>", "below --warn-hours, draw from this account's ERC-20 allowance to the twin (the funder approves the twin's account)")
    .option("--top-up-max <tokens>", "most tokens moved in one top-up", "10")
    .option("--start-timeout <seconds>", "a replica not running and passing its health check this long after it was made has failed", "180")
    .option("--metrics <host:port>", "serve Prometheus /metrics (heals) here; port 0 picks one; `zgrid metrics` lists it", "127.0.0.1:0")
    .option("--bus-listen <multiaddr>", "answer the owner's `bot status --bus` here (the bot's own bus twin; 0.0.0.0 to be reachable from other machines)", "/ip4/127.0.0.1/tcp/0")
    .option("--no-bus", "do not answer over the bus")
    .option("--backup-hub <url>", "back disks with `backup: <interval>` up to this hub (encrypted with a key derived from the twin key)")
    .action(async (o: { db?: string; window: string; interval: string; orphanGrace: string; startTimeout: string; warnHours: string; metrics: string; topUpFrom?: string; topUpMax: string; bus: boolean; busListen: string; backupHub?: string }) => {
      const { opts, io } = ctx();
      const { startThreebot, serveBotMetrics, serveBotBus, BotInputError } = await import("@zgrid/bot");
      const num = (v: string, flag: string, min: number) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < min || n > 86_400) throw new BotInputError(`--${flag} ${v}: expected seconds between ${min} and 86400`);
        return n * 1000;
      };
      const windowMs = num(o.window, "window", 1);
      const intervalMs = num(o.interval, "interval", 0.5);
      const orphanGraceMs = num(o.orphanGrace, "orphan-grace", 1);
      const startTimeoutMs = num(o.startTimeout, "start-timeout", 5);
      const warnHours = num(o.warnHours, "warn-hours", 0) / 1000;
      if (o.topUpFrom !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(o.topUpFrom)) throw new BotInputError(`--top-up-from ${o.topUpFrom.slice(0, 80)}: expected an account address (0x and 40 hex digits)`);
      const topUpMax = Number(o.topUpMax);
      if (!Number.isFinite(topUpMax) || topUpMax <= 0 || topUpMax > 1_000_000) throw new BotInputError(`--top-up-max ${o.topUpMax}: expected tokens between 0 and 1000000`);
      const topUp = o.topUpFrom ? { topUp: { from: o.topUpFrom as `0x${string}`, maxPerTopUp: BigInt(Math.round(topUpMax * 1e7)) } } : {};
      const listen = /^(\[[0-9a-fA-F:.]+\]|[0-9a-zA-Z.-]{1,253}):(\d{1,5})$/.exec(o.metrics);
      if (!listen || Number(listen[2]) > 65_535) throw new BotInputError(`--metrics ${o.metrics.slice(0, 80)}: expected host:port (e.g. 127.0.0.1:9464, port 0 picks a free one)`);
      if (o.bus && !/^\/ip[46]\/[0-9a-fA-F:.]{1,45}\/tcp\/\d{1,5}(\/ws)?$/.test(o.busListen)) throw new BotInputError(`--bus-listen ${o.busListen.slice(0, 80)}: expected a multiaddr like /ip4/0.0.0.0/tcp/4002`);
      if (o.backupHub !== undefined && !/^https?:\/\/[^\s/]{1,253}(\/[^\s]{0,512})?$/.test(o.backupHub)) throw new BotInputError(`--backup-hub ${o.backupHub.slice(0, 80)}: expected the hub's http(s) URL`);
      const grid = await openGrid(opts);
      const b = await startThreebot({ grid, dbPath: dbOf(opts, o.db), windowMs, intervalMs, orphanGraceMs, startTimeoutMs, warnHours, ...topUp, ...(o.backupHub ? { backupHub: o.backupHub } : {}) });
      const served = await serveBotMetrics(b.metrics, { host: listen[1]!.replace(/^\[|\]$/g, ""), port: Number(listen[2]) });
      writeBotMetricsUrl(opts.dataDir, { url: served.url, pid: process.pid, twin: grid.twinId });
      // the owner's way in from anywhere; the bot keeps healing without it (a chain hiccup at start only costs the bus)
      const onBus = o.bus ? await serveBotBus({ grid, bot: b, listen: [o.busListen] }).catch((e: unknown) => {
        io.progress(`3bot: not answering over the bus: ${(e as Error).message.split("\n")[0]}`);
        return undefined;
      }) : undefined;
      io.progress(`3bot of twin ${grid.twinId} running (db ${dbOf(opts, o.db)}, dead after ${windowMs / 1000} s, metrics ${served.url}${onBus ? `, bus twin ${onBus.twinId}` : ""}); Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => resolve());
      });
      clearBotMetricsUrl(opts.dataDir);
      await onBus?.stop();
      await served.close();
      await b.stop();
      await grid.close();
      io.result({ stopped: true }, () => "3bot stopped");
    });
  bot.command("apply").description("hand a services file (YAML/JSON: services: [...]) to the 3bot as desired state")
    .requiredOption("-f, --file <services.yaml>", "the services")
    .option("--replace", "services not in the file are removed", false)
    .option("--allow-data-loss", "go ahead when a service's disk is removed or made smaller (its data is lost)")
    .option("--db <file>", "the bot's database")
    .action(async (o: { file: string; replace: boolean; db?: string; allowDataLoss?: boolean }) => {
      const { opts, io } = ctx();
      const { BotInputError } = await import("@zgrid/bot");
      let text: string;
      try {
        text = readFileSync(o.file, "utf8");
      } catch (e) {
        throw new BotInputError(`${o.file}: ${(e as Error).message.split("\n")[0]}`, { hint: "check the path given to -f" });
      }
      const r = await storeBotSpec(opts, o.file, text, { replace: o.replace, ...(o.db ? { db: o.db } : {}), ...(o.allowDataLoss ? { allowDataLoss: true } : {}) });
      io.result(r, () => `desired state stored: ${r.services.join(", ")} (a running 3bot takes it within a second)`);
    });
  bot.command("rm <services...>").description("stop keeping services (the bot cancels their contracts)").option("--db <file>", "the bot's database")
    .action(async (names: string[], o: { db?: string }) => {
      const { opts, io } = ctx();
      const { openBotStore } = await import("@zgrid/bot");
      const store = openBotStore(dbOf(opts, o.db));
      try {
        const known = new Set(store.services().map((s) => s.name));
        for (const n of names) if (known.has(n)) store.removeService(n);
        store.requestApply();
        io.result({ removed: names.filter((n) => known.has(n)) }, () => `removed ${names.filter((n) => known.has(n)).join(", ") || "nothing"}`);
      } finally {
        store.close();
      }
    });
  bot.command("status").description("each service, replica, node and health; node liveness; the last heals and rollouts")
    .option("--db <file>", "the bot's database").option("-n, --events <n>", "how many recent events", "10")
    .option("--bus", "ask the running bot over the bus (works from any machine with the twin key)", false)
    .action(async (o: { db?: string; events: string; bus: boolean }) => {
      const { opts, io } = ctx();
      const limit = Math.min(Math.max(Number(o.events) || 10, 1), 500);
      if (o.bus) {
        const { askBot, BOT_STATUS, BOT_EVENTS } = await import("@zgrid/bot");
        const grid = await openGrid(opts);
        try {
          const st = await askBot<BotStatus>(grid, BOT_STATUS, {});
          const events = await askBot<BotEvent[]>(grid, BOT_EVENTS, { limit });
          io.result({ at: Date.now(), status: st, events, via: "bus" }, () => renderStatus(st, st.lastPassAt, events));
        } finally {
          await grid.close();
        }
        return;
      }
      const { openBotStore } = await import("@zgrid/bot");
      const store = openBotStore(dbOf(opts, o.db));
      try {
        const snap = store.status();
        const events = store.events({ limit });
        const st = snap?.status as BotStatus | undefined;
        io.result({ at: snap?.at ?? 0, status: st, desired: store.services(), events }, () => renderStatus(st, snap?.at ?? 0, events));
      } finally {
        store.close();
      }
    });
}

function renderStatus(st: BotStatus | undefined, at: number, events: BotEvent[]): string {
  if (!st) return "the 3bot has not run a pass yet (start it with `zgrid bot run`)";
  const rows = st.services.flatMap((s) => s.replicas.map((r) => ({ service: s.name, replica: r.name, node: r.nodeId, state: r.state, ip: r.ip, public: r.publicIp ?? "", version: r.hash === s.hash ? "current" : "outdated", contract: r.contractId })));
  const pub = rows.some((r) => r.public);
  const age = Math.round((Date.now() - at) / 1000);
  return `last pass ${age} s ago (pass ${st.passes})\n` + table(rows, ["service", "replica", "node", "state", "ip", ...(pub ? ["public" as const] : []), "version", "contract"]) +
    `\nnodes: ${st.nodes.map((n) => `${n.nodeId} ${n.state}`).join(", ")}\n` +
    (st.backups?.length ? `backups:\n${table(st.backups.map((b) => ({ service: b.service, replica: b.replica, disk: b.disk, "taken at": new Date(b.takenAt).toISOString().slice(0, 19).replace("T", " "), node: b.nodeId, manifest: `${b.manifest.slice(0, 12)}…` })), ["service", "replica", "disk", "taken at", "node", "manifest"])}\n` : "") +
    (st.restores?.length ? `restores (heal: the new replica is served only once its disks hold the lost one's last backup):\n${table(st.restores.map((r) => ({ service: r.service, replica: r.replica, disk: r.disk, from: r.source, "backup of": new Date(r.takenAt).toISOString().slice(0, 19).replace("T", " "), state: r.state, attempts: r.attempts, error: r.error })), ["service", "replica", "disk", "from", "backup of", "state", "attempts", "error"])}\n` : "") +
    (st.balance ? `balance: ${st.balance.tokens.toFixed(2)}, burning ${st.balance.burnPerHour.toFixed(4)}/h${st.balance.hoursLeft === null ? "" : ` (~${st.balance.hoursLeft.toFixed(1)} h left)`}\n` : "") +
    events.map((e) => `${new Date(e.at).toISOString().slice(11, 19)} ${e.service || "-"} ${e.kind}: ${e.message}`).join("\n");
}
