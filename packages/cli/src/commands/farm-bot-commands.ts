/**
 * `zgrid farm bot run|status` and `zgrid farm status`: the farm's farmerbot (power management,
 * @zgrid/bot) and the farm's nodes, power states and energy saved.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { sdk, type Ctx, type GlobalOptions } from "../context.ts";
import { table } from "../output.ts";

interface FarmerIdentity {
  rpcUrl: string;
  addresses: { token: `0x${string}`; registry: `0x${string}`; contracts: `0x${string}`; governance: `0x${string}` };
  privateKey: `0x${string}`;
  farmId: number;
  listen: string[];
  stateFile: string;
  /** The local grid's underlay broadcast (where magic packets reach the node hosts' BMCs). */
  wolBroadcast?: string;
}

/** The farmer's identity: the local grid's farmer, or `--grid FILE` + ZGRID_FARMER_KEY. */
async function farmer(o: GlobalOptions): Promise<FarmerIdentity> {
  const { readLocalGrid, InputError } = await sdk();
  if (o.grid) {
    const raw = JSON.parse(readFileSync(o.grid, "utf8")) as { rpcUrl: string; addresses: FarmerIdentity["addresses"] };
    const key = process.env.ZGRID_FARMER_KEY;
    if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) throw new InputError("no farmer key", { hint: "set ZGRID_FARMER_KEY to the farm twin's private key (0x + 64 hex)" });
    return { rpcUrl: raw.rpcUrl, addresses: raw.addresses, privateKey: key as `0x${string}`, farmId: 0, listen: ["/ip4/0.0.0.0/tcp/0"], stateFile: join(o.dataDir, "farmerbot", "state.json") };
  }
  const g = readLocalGrid(o.dataDir);
  return { rpcUrl: g.rpcUrl, addresses: g.addresses, privateKey: g.farmerKey, farmId: g.farmId,
    listen: [`/ip4/${g.underlay?.hostAddress ?? "127.0.0.1"}/tcp/0`], stateFile: join(o.dataDir, "farmerbot", "state.json"),
    // the underlay is a /16 (10.<o>.0.0/16, host 10.<o>.0.1)
    ...(g.underlay ? { wolBroadcast: g.underlay.hostAddress.replace(/\.\d+\.\d+$/, ".255.255") } : {}) };
}

async function policyOf(file: string | undefined, f: FarmerIdentity, farmOpt: string | undefined) {
  const { parseFarmerPolicy } = await import("@zgrid/bot");
  const raw = file ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  return parseFarmerPolicy({ stateFile: f.stateFile, ...(f.wolBroadcast ? { wol: { broadcast: f.wolBroadcast, port: 9 } } : {}), ...raw, farmId: farmOpt ? Number(farmOpt) : (raw.farmId ?? f.farmId) });
}

export function registerFarmBotCommands(farm: Command, ctx: Ctx): void {
  const bot = farm.command("bot").description("the farm's farmerbot: powers idle nodes off, wakes them on demand (Wake-on-LAN)");
  bot.command("run").description("run the farmerbot with the farmer's key until interrupted")
    .option("--config <file>", "policy JSON (minAwakeNodes, minAwakePercent, idleMinutes, uptimeWakeHours, wol, energy; see packages/bot/README.md)")
    .option("--farm <id>", "the farm (default: the local grid's)")
    .option("--listen <multiaddr>", "bus listen address (clients ask the bot to wake nodes)")
    .action(async (o: { config?: string; farm?: string; listen?: string }) => {
      const { opts, io } = ctx();
      const f = await farmer(opts);
      const policy = await policyOf(o.config, f, o.farm);
      const { runFarmerbot } = await import("@zgrid/bot");
      const run = await runFarmerbot({ policy, privateKey: f.privateKey, rpcUrl: f.rpcUrl, addresses: f.addresses, listen: o.listen ? [o.listen] : f.listen });
      io.progress(`farmerbot of farm ${policy.farmId} running (state ${policy.stateFile}); Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await run.stop();
      io.result(run.bot.status(), () => "farmerbot stopped");
    });

  const status = async (o: { config?: string; farm?: string }) => {
    const { opts, io } = ctx();
    const f = await farmer(opts);
    const policy = await policyOf(o.config, f, o.farm);
    const { farmStatus } = await import("@zgrid/bot");
    const { createGridClient } = await import("@zgrid/chain");
    const chain = createGridClient({ rpcUrl: f.rpcUrl, addresses: f.addresses });
    const s = await farmStatus({ chain, farmId: policy.farmId, ...(policy.stateFile ? { stateFile: policy.stateFile } : {}), energy: policy.energy });
    io.result(s, () => {
      const rows = s.nodes.map((n) => ({ node: n.nodeId, power: n.vacating ? "up (vacating)" : n.power, target: n.target, "on h": n.onHours.toFixed(2), "standby h": n.offHours.toFixed(2), wakes: n.wakes,
        "uptime proof": new Date(n.lastUptimeReport * 1000).toISOString() }));
      const e = s.energy;
      const energy = e ? `energy: ${e.kwh.toFixed(3)} kWh used, ${e.alwaysOnKwh.toFixed(3)} kWh always-on, saved ${e.savedKwh.toFixed(3)} kWh (${e.ratio.toFixed(2)}x less), ${e.kwhPerDay.toFixed(2)} kWh/day`
        : "energy: no farmerbot state here (run `zgrid farm bot run`)";
      const wake = s.wakeLatency.count ? `wake latency: p50 ${s.wakeLatency.p50.toFixed(1)} s, p99 ${s.wakeLatency.p99.toFixed(1)} s (${s.wakeLatency.count} wakes)` : "";
      return [table(rows, ["node", "power", "target", "on h", "standby h", "wakes", "uptime proof"]), energy, wake].filter(Boolean).join("\n");
    });
  };
  bot.command("status").description("the farm's nodes, power states and energy saved").option("--config <file>").option("--farm <id>").action(status);
  farm.command("status").description("the farm's nodes, power states and energy saved (the farmerbot's ledgers)").option("--config <file>").option("--farm <id>").action(status);
}
