/**
 * Green benchmark (issue 20):
 *   1. energy: the farm-day simulation (farm-day.ts: real farmerbot + real dev chain, power switch
 *      and workloads SIMULATED) on a diurnal trace at 20% mean utilisation: kWh with the farmerbot
 *      vs always-on (the baseline, same work, same run), goal >= 3x less; wake latency; deploys that waited.
 *   2. wake-to-deployable on the local grid (root; run under `flock /tmp/zgrid-vm.lock`): one node
 *      host whose zosd runs under the simulated BMC; the farmerbot powers it off, then a client asks
 *      the bot to wake it and times request -> magic packet -> node answers on the bus (deployable).
 *
 *   node bench/green/run.ts [--hours 24] [--nodes 8] [--wakes 3] [--no-local]
 */
import { parseArgs } from "node:util";
import { runFarmerbot, parseFarmerPolicy } from "@zgrid/bot";
import { connectGrid, wakeNode } from "@zgrid/client";
import { startGridFixture } from "@zgrid/zos/testing";
import { simulateFarmDay } from "./farm-day.ts";

const { values } = parseArgs({ options: { hours: { type: "string", default: "24" }, nodes: { type: "string", default: "8" }, wakes: { type: "string", default: "3" }, "no-local": { type: "boolean" } } });

const sim = await simulateFarmDay({ nodes: Number(values.nodes), hours: Number(values.hours), utilisation: 0.2, seed: 7, coresPerNode: 32, vmHours: 2, swing: 0.8, bootSeconds: [60, 180], stepSeconds: 60 });
console.log(`farm-day (simulated switch + workloads, real farmerbot + chain), ${values.nodes} nodes, ${values.hours} h, mean utilisation ${(100 * sim.meanUtilisation).toFixed(1)}%, mean awake ${sim.meanAwake.toFixed(2)} nodes`);
console.log(`  energy: ${sim.kwh.toFixed(2)} kWh with the farmerbot vs ${sim.alwaysOnKwh.toFixed(2)} kWh always-on: ${sim.ratio.toFixed(2)}x less (goal >= 3x: ${sim.ratio >= 3 ? "met" : "NOT met"}), saved ${sim.savedKwh.toFixed(2)} kWh`);
console.log(`  wakes: ${sim.wakeLatency.count}, latency p50 ${sim.wakeLatency.p50.toFixed(0)} s p99 ${sim.wakeLatency.p99.toFixed(0)} s (simulated boot 60-180 s + bot period)`);
console.log(`  deploys: ${sim.deploys}, waited for a wake: ${sim.waited} (p50 ${sim.waitP50} s, p99 ${sim.waitP99} s)`);

if (!values["no-local"]) {
  const g = await startGridFixture({ nodes: 1, entrypoint: "#!/bin/sh\nexec sleep 100000\n", subnetOctet: 235, bmc: true });
  try {
    const node = g.nodes[0]!;
    const policy = parseFarmerPolicy({ farmId: g.grid.farmId, minAwakeNodes: 0, idleMinutes: 0, periodSeconds: 3600, wol: { broadcast: "10.235.255.255", port: 9 } });
    const run = await runFarmerbot({ policy, privateKey: g.grid.chain.twins[0]!.privateKey, rpcUrl: g.grid.chain.rpcUrl, addresses: g.grid.chain.addresses, listen: [`/ip4/${g.underlay.hostAddress}/tcp/0`], autoStart: false });
    const user = await connectGrid({ rpcUrl: g.grid.chain.rpcUrl, addresses: g.grid.chain.addresses, privateKey: g.grid.chain.twins[3]!.privateKey });
    try {
      const wakes: number[] = [];
      for (let i = 0; i < Number(values.wakes); i++) {
        await run.bot.tick();
        for (let t = 0; t < 200 && (await g.grid.farmer.getNode(node.nodeId)).power.state !== "down"; t++) await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 1000));
        const t0 = Date.now();
        await wakeNode({ chain: user.chain, bus: await user.bus() }, node.nodeId);
        wakes.push((Date.now() - t0) / 1000);
      }
      wakes.sort((a, b) => a - b);
      console.log(`local grid wake-to-deployable (magic packet -> zosd answers): ${wakes.map((w) => w.toFixed(1)).join(", ")} s; p50 ${wakes[Math.floor(wakes.length / 2)]!.toFixed(1)} s`);
    } finally {
      await user.close();
      await run.stop();
    }
  } finally {
    await g.stop();
  }
}
