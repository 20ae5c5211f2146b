/**
 * Green benchmark (issue 20):
 *   1. energy: the farm-day simulation (farm-day.ts: real farmerbot + real dev chain + the SDK's
 *      placement, power switch and workloads SIMULATED) on a diurnal trace at 20% mean utilisation,
 *      for each farm size and seed: kWh with the farmerbot vs always-on (the baseline, same work,
 *      same run; goal >= 3x less), the bound no policy without live migration beats (`oracle`:
 *      perfect packing, instant wakes), wake latency, deploys that waited, where the nodes on go
 *      (holding VMs vs empty); then, at `--compare-at nodes:seed`, the same trace with the SDK's
 *      `spread` placement, session 2's policy, predictive wake, a spare of 3% of the vCPUs, and the
 *      clairvoyant placement bound (sim-only: knows each VM's end; what placement alone could save).
 *      The matrix runs once per `--movable` share (default 0, 0.5, 1): that share of the VMs' tenants
 *      consented to be re-placed, the farmerbot vacates nodes (consolidation) and SIMULATED 3bots
 *      move those VMs make-before-break (sim-tenants.ts); moves per VM are reported.
 *   2. wake-to-deployable on the local grid (root; run under `flock /tmp/zgrid-vm.lock`): `zgrid up
 *      --bmc --nodes 1` (the node's zosd under the simulated BMC on the underlay), the farmerbot
 *      powers the node off, then a client asks the bot to wake it and times request -> magic packet
 *      -> node answers on the bus (deployable); last, a VM deploy naming the standby node is timed
 *      to running (wake included). `zgrid down` at the end.
 *
 *   node bench/green/run.ts [--hours 24] [--sizes 12,24,48] [--seeds 7,8,9] [--movable 0,0.5,1] [--consent-affinity] [--policy '{"idleMinutes":5}'] [--no-compare] [--compare-at 24:8] [--wakes 3] [--no-sim] [--no-local]
 *   node bench/green/run.ts --no-local --no-compare      # the energy matrix and its movable sweep alone (no VM)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseFarmerPolicy, runFarmerbot } from "@zgrid/bot";
import { connectGrid, readLocalGrid, wakeNode } from "@zgrid/client";
import { FARM_DAY_POLICY, SESSION2_POLICY, simulateFarmDay, type FarmDayResult } from "./farm-day.ts";

const { values } = parseArgs({ options: { hours: { type: "string", default: "24" }, sizes: { type: "string", default: "12,24,48" }, seeds: { type: "string", default: "7,8,9" }, "compare-at": { type: "string", default: "24:8" },
  movable: { type: "string", default: "0,0.5,1" }, "consent-affinity": { type: "boolean" },
  policy: { type: "string", default: "{}" }, "no-compare": { type: "boolean" }, wakes: { type: "string", default: "3" }, "no-sim": { type: "boolean" }, "no-local": { type: "boolean" } } });

const line = (label: string, r: FarmDayResult) =>
  `  ${label}: util ${(100 * r.meanUtilisation).toFixed(1)}%, awake ${r.meanAwake.toFixed(2)} nodes, ${r.kwh.toFixed(2)} kWh vs ${r.alwaysOnKwh.toFixed(2)} always-on = ` +
  `${r.ratio.toFixed(2)}x less (oracle ${r.oracleRatio.toFixed(2)}x), wakes ${r.wakeLatency.count} p50 ${r.wakeLatency.p50.toFixed(0)} s p99 ${r.wakeLatency.p99.toFixed(0)} s, ` +
  `deploys ${r.deploys}, waited ${r.waited} (p50 ${r.waitP50} s, p99 ${r.waitP99} s); nodes on: oracle ${r.oracleNodes.toFixed(2)}, holding VMs ${r.busyAwake.toFixed(2)}, ` +
  `on without a VM ${r.idleAwake.toFixed(2)}; trace lifetimes x${r.lifetimeScale.toFixed(3)}${r.clockSlips ? `; ${r.clockSlips} steps ran long (clock slips)` : ""}` +
  (r.movableVms ? `; movable VMs ${r.movableVms} of ${r.vms}, nodes vacated ${r.vacates} (given up ${r.vacateGiveUps}), moves ${r.moves} (${r.movesPerVm.toFixed(3)} per VM)` : "");

if (!values["no-sim"]) {
  const seeds = values.seeds.split(",").map(Number);
  const sizes = values.sizes.split(",").map(Number);
  const policy = { ...FARM_DAY_POLICY, ...(JSON.parse(values.policy) as object) };
  console.log(`farm-day (SIMULATED switch + workloads; real farmerbot, dev chain and SDK placement): 32 vCPU nodes, ${values.hours} h, diurnal trace at 20% mean utilisation; policy ${JSON.stringify(policy)}` +
    (values["consent-affinity"] ? "; SIM-ONLY consent-affinity placement (movable VMs with movable VMs)" : ""));
  const run = (nodes: number, seed: number, o: { policy?: typeof policy; placement?: "pack" | "spread" | "clairvoyant"; movable?: number } = {}) => simulateFarmDay({
    nodes, hours: Number(values.hours), utilisation: 0.2, seed, coresPerNode: 32, vmHours: 2, swing: 0.8, bootSeconds: [60, 180], stepSeconds: 60, policy: o.policy ?? policy, ...(o.placement ? { placement: o.placement } : {}),
    ...(o.movable ? { movable: o.movable } : {}), ...(values["consent-affinity"] ? { consentAffinity: true } : {}),
  });
  const sum = (rs: FarmDayResult[], f: (r: FarmDayResult) => number) => rs.reduce((s, r) => s + f(r), 0);
  const summary: string[] = [];
  for (const movable of values.movable.split(",").map(Number)) {
    console.log(`movable ${movable}: ${movable ? `${100 * movable}% of the VMs' tenants consented to be re-placed (SIMULATED 3bots move them off the nodes the farmerbot vacates)` : "no VM movable"}`);
    const all: FarmDayResult[] = [];
    const row: string[] = [];
    for (const nodes of sizes) {
      const results: FarmDayResult[] = [];
      for (const seed of seeds) {
        const r = await run(nodes, seed, { movable });
        results.push(r);
        console.log(line(`${nodes} nodes, seed ${seed}`, r));
      }
      all.push(...results);
      const ratio = sum(results, (r) => r.alwaysOnKwh) / sum(results, (r) => r.kwh);
      row.push(`${nodes}: ${ratio.toFixed(2)}x`);
      console.log(`  ${nodes} nodes, all seeds: ${sum(results, (r) => r.kwh).toFixed(2)} kWh vs ${sum(results, (r) => r.alwaysOnKwh).toFixed(2)} always-on = ${ratio.toFixed(2)}x less ` +
        `(goal >= 3x: ${ratio >= 3 ? "met" : "NOT met"}); oracle ${(sum(results, (r) => r.alwaysOnKwh) / sum(results, (r) => r.oracleKwh)).toFixed(2)}x; ` +
        `mean utilisation ${(100 * sum(results, (r) => r.meanUtilisation) / results.length).toFixed(1)}%; deploys ${sum(results, (r) => r.deploys)}, waited ${sum(results, (r) => r.waited)}; ` +
        `moves ${sum(results, (r) => r.moves)} (${(sum(results, (r) => r.moves) / sum(results, (r) => r.vms)).toFixed(3)} per VM)`);
    }
    const overall = `${(sum(all, (r) => r.alwaysOnKwh) / sum(all, (r) => r.kwh)).toFixed(2)}x less; oracle ${(sum(all, (r) => r.alwaysOnKwh) / sum(all, (r) => r.oracleKwh)).toFixed(2)}x`;
    if (sizes.length > 1) console.log(`  every size and seed: ${overall}`);
    summary.push(`  movable ${movable}: ${row.join(", ")}; all: ${overall}; waited ${sum(all, (r) => r.waited)} of ${sum(all, (r) => r.deploys)} deploys; moves ${(sum(all, (r) => r.moves) / sum(all, (r) => r.vms)).toFixed(3)} per VM`);
  }
  console.log(`movable sweep (ratio vs always-on per farm size, all seeds):\n${summary.join("\n")}`);
  if (!values["no-compare"]) {
    // The same trace (same size and seed) under other choices: the price of spreading, of session 2's
    // policy, and what predictive wake and a spare of the farm's vCPUs cost in energy and buy in waits.
    const [n, seed] = values["compare-at"].split(":").map(Number) as [number, number];
    console.log(line(`${n} nodes, seed ${seed}, SDK placement spread`, await run(n, seed, { placement: "spread" })));
    console.log(line(`${n} nodes, seed ${seed}, session 2's policy`, await run(n, seed, { policy: SESSION2_POLICY })));
    console.log(line(`${n} nodes, seed ${seed}, predictive wake (forecastMinutes 3)`, await run(n, seed, { policy: { ...policy, forecastMinutes: 3 } })));
    console.log(line(`${n} nodes, seed ${seed}, spareCorePercent 3`, await run(n, seed, { policy: { ...policy, spareCorePercent: 3 } })));
    // Not a policy: what placement alone could save without live migration if it knew each VM's end.
    console.log(line(`${n} nodes, seed ${seed}, CLAIRVOYANT placement (sim-only bound: knows each VM's end)`, await run(n, seed, { placement: "clairvoyant" })));
  }
}

if (!values["no-local"]) {
  const ZGRID = fileURLToPath(new URL("../../packages/cli/bin/zgrid.ts", import.meta.url));
  const dataDir = mkdtempSync(join(tmpdir(), "green-local-"));
  const zgrid = (...args: string[]) => {
    const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", ZGRID, "--data-dir", dataDir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 300_000 });
    if (r.status !== 0) throw new Error(`zgrid ${args.join(" ")} failed (${r.status})`);
  };
  try {
    const t0 = Date.now();
    zgrid("up", "--nodes", "1", "--bmc");
    console.log(`local grid: zgrid up --bmc --nodes 1 in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const g = readLocalGrid(dataDir);
    const node = g.nodes[0]!;
    const broadcast = g.underlay!.hostAddress.replace(/\.\d+\.\d+$/, ".255.255");
    const policy = parseFarmerPolicy({ farmId: g.farmId, minAwakeNodes: 0, idleMinutes: 0, periodSeconds: 3600, wol: { broadcast, port: 9 } });
    const run = await runFarmerbot({ policy, privateKey: g.farmerKey, rpcUrl: g.rpcUrl, addresses: g.addresses, listen: [`/ip4/${g.underlay!.hostAddress}/tcp/0`], autoStart: false });
    const user = await connectGrid({ rpcUrl: g.rpcUrl, addresses: g.addresses, privateKey: g.user.privateKey });
    // A pass where the node does not answer in time (a loaded host) counts it busy: pass again.
    const standby = async () => {
      for (let t = 0; t < 120 && (await user.chain.getNode(node.nodeId)).power.state !== "down"; t++) {
        if (t % 10 === 0) await run.bot.tick();
        await new Promise((r) => setTimeout(r, 500));
      }
      if ((await user.chain.getNode(node.nodeId)).power.state !== "down") throw new Error(`node ${node.nodeId} did not go to standby`);
      await new Promise((r) => setTimeout(r, 1000)); // its zosd gone
    };
    try {
      const wakes: number[] = [];
      for (let i = 0; i < Number(values.wakes); i++) {
        await standby();
        const t1 = Date.now();
        await wakeNode({ chain: user.chain, bus: await user.bus() }, node.nodeId);
        wakes.push((Date.now() - t1) / 1000);
      }
      const sorted = [...wakes].sort((a, b) => a - b);
      console.log(`local grid wake-to-deployable (ask the bot -> magic packet -> BMC starts zosd -> it answers on the bus): ${wakes.map((w) => w.toFixed(1)).join(", ")} s; p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} s`);
      await standby();
      const t2 = Date.now();
      await user.vms.deploy({ name: "green", flist: g.flists.busybox!, node: node.nodeId, entrypoint: "/start.sh" });
      console.log(`local grid deploy onto the standby node, wake included, to VM running: ${((Date.now() - t2) / 1000).toFixed(1)} s`);
    } finally {
      await user.close();
      await run.stop();
    }
  } finally {
    try { zgrid("down"); } finally { rmSync(dataDir, { recursive: true, force: true }); }
  }
}
