/**
 * Farm-day simulation: the REAL farmerbot (decisions, memory, ledgers, energy model) against the
 * REAL dev chain (power target/state, rent checks, uptime proofs are real transactions), with the
 * nodes' power switch and the nodes' workloads SIMULATED (labelled so): a simulated node answers
 * statistics from its simulated VMs, honours `power_off` like zosd (refuses with workloads or when
 * rented, reports standby on chain), is woken by the bot's magic packet after a simulated boot
 * time, and reports uptime every 40 min while on. Time is compressed: each step stamps the chain's
 * next block exactly one step later, so a seed replays exactly whatever the host's speed, and the
 * bot reads that clock.
 *
 * Workload trace (trace.ts, generated before the day so every policy of a seed sees the same VMs):
 * VMs of 1, 2 or 4 vCPUs, lifetimes exponential (mean `vmHours`), Poisson arrivals whose rate
 * follows a diurnal curve (peak 15:00, trough 03:00, ±`swing`), calibrated so the VMs' reserved
 * vCPUs over the day are exactly `utilisation` of the farm's (lifetimes scaled by one factor,
 * reported as `lifetimeScale`); each VM has 4 GiB of memory per vCPU. Placement is
 * the SDK's own (`placementOrder` of @zgrid/client, what `grid.nodes.pick` does: `pack` by default,
 * the fullest awake node that fits; `--placement spread` for the emptiest; `--placement clairvoyant`
 * is a SIMULATION-ONLY bound, not a policy: it knows when each VM will end). A VM that fits no awake
 * node picks a standby node the same way (the node finder offers standby nodes as wakeable
 * capacity, a waking one included) and asks the bot to wake it (demand), then waits.
 *
 * Nodes beyond the dev chain's 19 funded accounts get their own twins (further accounts of the dev
 * mnemonic, given gas by the test client), so farms of 10–50 nodes run.
 *
 * Consolidation by consent: `--movable f` marks that share of the VMs movable (their tenants
 * consented; drawn per VM from the seed's trace, so every policy of a seed moves the same VMs);
 * SIMULATED 3bots (sim-tenants.ts) re-place them make-before-break off the nodes the farmerbot
 * vacates (target down on chain), and the node finder offers no target-down node to new deploys.
 *
 *   node bench/green/farm-day.ts [--nodes 8] [--hours 24] [--util 0.2] [--seed 7] [--placement pack|spread|clairvoyant] [--cold-start] [--movable 0.5] [--move-seconds 120] [--consent-affinity]
 */
import { parseArgs } from "node:util";
import { createLogger } from "@zgrid/log";
import { Farmerbot, openFarmerState, parseFarmerPolicy, type FarmerNodes, type WolSender } from "@zgrid/bot";
import { createGridClient, devAccount, startDevChain, GIB, type DevChain } from "@zgrid/chain";
import { placementOrder } from "@zgrid/client";
import { createPublicClient, custom, type PublicClient } from "viem";
import { FARM_DAY_POLICY, SESSION2_POLICY, type FarmDayOptions, type FarmDayResult } from "./farm-day-options.ts";
import { chainTargets, simulated3bots, usedCores as used, type SimNode, type SimVm } from "./sim-tenants.ts";
import { diurnalTrace, rng } from "./trace.ts";

export { FARM_DAY_POLICY, SESSION2_POLICY, SESSION4_POLICY, type FarmDayOptions, type FarmDayResult } from "./farm-day-options.ts";

/** Memory per vCPU of a simulated VM (a general-purpose 1:4 shape). */
const VM_GIB_PER_CORE = 4;
const NODE_MEMORY_GIB = 256;

/** Node twins: the dev chain's funded accounts first, then further accounts of the dev mnemonic (gas from the test client). */
async function nodeTwins(chain: DevChain, count: number): Promise<Array<{ privateKey: `0x${string}`; twinId: number }>> {
  const twins = chain.twins.slice(1, 1 + count).map((t) => ({ privateKey: t.privateKey, twinId: t.twinId }));
  for (let i = twins.length; i < count; i++) {
    const acc = devAccount(100 + i);
    await chain.testClient.setBalance({ address: acc.address, value: 10n ** 21n });
    const c = createGridClient({ rpcUrl: chain.rpcUrl, addresses: chain.addresses, account: acc.privateKey, pollingIntervalMs: 5 });
    twins.push({ privateKey: acc.privateKey, twinId: await c.createTwin({ peerId: acc.peerId, relays: [] }) });
  }
  return twins;
}
const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0; };

export async function simulateFarmDay(o: FarmDayOptions): Promise<FarmDayResult> {
  const rand = rng(o.seed);
  const chain = await startDevChain({ twins: Math.min(19, 1 + o.nodes) });
  try {
    // Every client (the bot's, the nodes') talks to the dev chain in-process through its EIP-1193
    // provider: the same chain, calls and transactions as over the JSON-RPC server, without HTTP
    // and JSON per call (the farm-day's CPU went mostly there). Answers are normalised as the
    // server sends them (bigints as hex).
    const request = async (args: { method: string; params?: unknown }) =>
      JSON.parse(JSON.stringify(await chain.provider.request(args as never), (_k, v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v))) as unknown;
    const inproc = createPublicClient({ chain: chain.publicClient.chain, transport: custom({ request }), pollingInterval: 5 }) as PublicClient;
    const client = (k: `0x${string}`) => createGridClient({ publicClient: inproc, addresses: chain.addresses, account: k, pollingIntervalMs: 5 });
    const farmer = client(chain.twins[0]!.privateKey);
    const farmId = await farmer.createFarm({ name: "green-farm" });
    const nodes: SimNode[] = [];
    for (const [i, twin] of (await nodeTwins(chain, o.nodes)).entries()) {
      const c = client(twin.privateKey);
      const mac = `02:00:00:00:01:${(i + 1).toString(16).padStart(2, "0")}`;
      const id = await c.registerNode({ farmId, resources: { cru: BigInt(o.coresPerNode), mru: BigInt(NODE_MEMORY_GIB) * GIB, sru: 2048n * GIB, hru: 0n }, interfaces: [{ name: "eth0", mac, ips: [] }] });
      nodes.push({ id, twinId: twin.twinId, mac, client: c, on: true, vms: [], lastUptime: 0, bootedAt: 0, own: { onSeconds: 0, offSeconds: 0, reservedCoreSeconds: 0, wakes: 0, offs: 0 } });
    }
    let now = Number((await inproc.getBlock()).timestamp);
    let start = now;
    const byTwin = new Map(nodes.map((n) => [n.twinId, n]));
    const byMac = new Map(nodes.map((n) => [n.mac, n]));
    // SIMULATED node side: statistics from simulated VMs; power_off honoured like zosd does.
    const simNodes: FarmerNodes = {
      async statistics(twinId) {
        const n = byTwin.get(twinId)!;
        if (!n.on) throw new Error("no answer");
        return { deployments: n.vms.length, usedCru: used(n), movable: n.vms.filter((v) => v.movable).length };
      },
      async powerOff(twinId) {
        const n = byTwin.get(twinId)!;
        if (n.vms.length) throw new Error("holds deployments");
        if ((await farmer.rentContractOf(n.id)) !== 0) throw new Error("rented");
        await n.client.setPowerState(false);
        n.on = false;
        n.own.offs++;
      },
      async durations(twinId) {
        const n = byTwin.get(twinId)!;
        if (!n.on) throw new Error("no answer");
        return { ...n.own };
      },
    };
    // SIMULATED power switch: the magic packet starts a boot of random length.
    const wol: WolSender = {
      async send(mac) {
        const n = byMac.get(mac)!;
        if (!n.on && n.bootsAt === undefined) n.bootsAt = now + o.bootSeconds[0] + rand() * (o.bootSeconds[1] - o.bootSeconds[0]);
      },
    };
    const policy = parseFarmerPolicy({ ...(o.policy ?? FARM_DAY_POLICY), farmId });
    const bot = new Farmerbot({ policy, chain: farmer, nodes: simNodes, wol, state: openFarmerState(undefined), log: createLogger("farmerbot", { level: "error" }), now: () => now });

    const totalCores = o.nodes * o.coresPerNode;
    const trace = diurnalTrace({ seed: o.seed, hours: o.hours, utilisation: o.utilisation, totalCores, vmHours: o.vmHours, swing: o.swing });
    const allVms = [...trace.initial, ...trace.arrivals];
    const vms = allVms.length;
    let nextArrival = 0;
    const waiting: Array<{ vm: SimVm; since: number; seconds: number }> = [];
    const waits: number[] = [];
    let clockSlips = 0, deploys = 0, utilSum = 0, awakeSum = 0, samples = 0, nextTick = now, oracleJ = 0, oracleNodes = 0, idleAwake = 0, busyAwake = 0;
    const m = policy.energy;
    // What a node reports as free (zos.statistics.get: memory after the reserve max(10%, 2 GiB)),
    // and what the node finder shows for a standby one (its declared capacity less the reserve).
    const usableMru = (NODE_MEMORY_GIB - Math.max(NODE_MEMORY_GIB / 10, 2)) * Number(GIB);
    const candidate = (n: SimNode, claimed = 0) => {
      const cru = n.on ? o.coresPerNode - used(n) : o.coresPerNode - claimed;
      return { nodeId: n.id, standby: !n.on, node: n, free: { cru, mru: n.on ? usableMru - used(n) * VM_GIB_PER_CORE * Number(GIB) : usableMru - claimed * VM_GIB_PER_CORE * Number(GIB), sru: 2048 * Number(GIB), hru: 0 } };
    };
    // The SDK's pick: the awake nodes that fit, ordered by the user's placement policy.
    const sdkPlacement = o.placement === "clairvoyant" ? "pack" : o.placement;
    const lastEnd = (n: SimNode) => n.vms.reduce((a, v) => Math.max(a, v.endsAt), 0);
    const keptOnLonger = (n: SimNode, vm: SimVm) => (lastEnd(n) >= vm.endsAt ? lastEnd(n) - vm.endsAt : 1e12 + vm.endsAt - lastEnd(n));
    const place = (vm: SimVm, among = nodes.filter((n) => n.on)): SimNode | undefined => {
      const fit = among.map((n) => candidate(n)).filter((c) => c.free.cru >= vm.cores);
      if (o.placement !== "clairvoyant") return placementOrder(fit, sdkPlacement)[0]?.node;
      return fit.sort((a, b) => keptOnLonger(a.node, vm) - keptOnLonger(b.node, vm) || a.free.cru - b.free.cru || a.nodeId - b.nodeId)[0]?.node;
    };

    // The node finder offers no node whose target is down (being vacated or powered off).
    const targets = chainTargets(farmer);
    const open = async (vm: SimVm) => {
      const fit: SimNode[] = [];
      for (const n of nodes) if (n.on && o.coresPerNode - used(n) >= vm.cores && !(await targets.down(n))) fit.push(n);
      if (!o.consentAffinity) return place(vm, fit);
      // (sim-only experiment) like with like: keeps nodes all-movable, so the bot can vacate them
      const pinned = (n: SimNode) => n.vms.some((v) => !v.movable);
      return place(vm, fit.filter((n) => (vm.movable ? !pinned(n) : pinned(n)))) ?? place(vm, fit);
    };
    const bots = simulated3bots({ nodes, targets, place, moveSeconds: o.moveSeconds ?? 120, periodSeconds: 60 });
    const movable = o.movable ?? 0;
    let vacates = 0, vacateGiveUps = 0;
    const tick = async () => {
      for (const a of await bot.tick()) {
        if (a.kind === "vacate") vacates++;
        if (a.kind === "target-up" && a.reason) vacateGiveUps++;
      }
    };

    // The VMs the trace holds at 00:00, packed.
    for (const v of trace.initial) {
      const vm = { cores: v.cores, endsAt: now + v.seconds, movable: v.consent < movable };
      place(vm)?.vms.push(vm);
    }
    if (!o.coldStart) {
      // Warm start: the nodes the night's VMs leave empty begin the day in standby, as the bot left
      // them (target down by the farmer, standby reported by the node after an uptime proof). Then
      // the day starts: the VMs' ends move with the clock.
      for (const n of nodes.filter((x) => x.vms.length === 0)) {
        n.lastUptime = Number((await inproc.getBlock()).timestamp);
        await n.client.reportUptime(0n, BigInt(n.lastUptime));
        await farmer.setPowerTarget(n.id, false);
        await n.client.setPowerState(false);
        n.on = false;
      }
      const head = Number((await inproc.getBlock()).timestamp);
      for (const v of nodes.flatMap((n) => n.vms)) v.endsAt += head - now;
      now = start = head;
    }
    while (now - start < o.hours * 3600) {
      // The chain's clock is the simulation's. A plain advance (wall clock + offset, +1 s a block)
      // let the host's speed into steps, arrivals and boots (one seed's ratio varied by 0.05): each
      // step's block is stamped prev + step, unless its transactions passed that (`clockSlips`).
      const prev = now;
      const head = Number((await inproc.getBlock()).timestamp);
      if (head < prev + o.stepSeconds) await chain.testClient.setNextBlockTimestamp({ timestamp: BigInt(prev + o.stepSeconds) });
      else clockSlips++;
      await chain.testClient.mine({ blocks: 1 });
      now = Number((await inproc.getBlock()).timestamp);
      const dt = now - prev;
      {
        // vCPU-seconds reserved in the step: a VM counts until it ends, not to the step's end (a
        // whole step per VM put +0.35% on the utilisation); its node stays on to the step's end.
        // A move's booting copy is reserved (on its node's ledger) but not the tenant's work (utilisation, oracle).
        const coreSeconds = (n: SimNode, work = false) => n.vms.reduce((a, v) => a + (work && v.readyAt !== undefined ? 0 : v.cores * (Math.min(now, v.endsAt) - prev)), 0);
        const reserved = nodes.reduce((s, n) => s + n.vms.reduce((a, v) => a + (v.readyAt !== undefined ? 0 : v.cores), 0), 0);
        const reservedSeconds = nodes.reduce((s, n) => s + coreSeconds(n, true), 0);
        const k = Math.max(1, Math.ceil(reserved / o.coresPerNode));
        oracleJ += dt * (k * m.idleWatts + (o.nodes - k) * m.offWatts) + reservedSeconds * m.vmCpuDuty * m.wattsPerBusyCore;
        utilSum += reservedSeconds / totalCores;
        awakeSum += dt * nodes.filter((n) => n.on || n.bootsAt !== undefined).length;
        oracleNodes += dt * k;
        idleAwake += dt * nodes.filter((n) => (n.on || n.bootsAt !== undefined) && n.vms.length === 0).length;
        busyAwake += dt * nodes.filter((n) => n.vms.length > 0).length;
        samples += dt;
        // Each simulated node's own ledger (booting draws power: counted on).
        for (const n of nodes) {
          if (n.on || n.bootsAt !== undefined) {
            n.own.onSeconds += dt;
            n.own.reservedCoreSeconds += coreSeconds(n);
          } else n.own.offSeconds += dt;
        }
      }
      for (const n of nodes) {
        n.vms = n.vms.filter((v) => v.endsAt > now);
        if (n.bootsAt !== undefined && now >= n.bootsAt) {
          delete n.bootsAt;
          n.on = true; n.bootedAt = now; n.own.wakes++;
          await n.client.setPowerState(true);
          n.lastUptime = -Infinity;
        }
        if (n.on && now - n.lastUptime >= 2400) {
          await n.client.reportUptime(BigInt(now - n.bootedAt), BigInt(now));
          n.lastUptime = now;
        }
      }
      // SIMULATED 3bots re-place movable VMs off the nodes the farmerbot vacates (targets read this step).
      targets.clear();
      await bots.step(now);
      // the trace's arrivals up to now (each keeps its lifetime from when it is placed)
      for (; nextArrival < trace.arrivals.length && trace.arrivals[nextArrival]!.at <= now - start; nextArrival++) {
        const a = trace.arrivals[nextArrival]!;
        waiting.push({ vm: { cores: a.cores, endsAt: 0, movable: a.consent < movable }, since: now, seconds: a.seconds });
        deploys++;
      }
      // Deploys still waiting for a node claim standby capacity (the SDK's pick falls back to a
      // standby node, a waking one included, then asks the bot to wake it; a deploy that finds the
      // node full once it is up picks again): vCPUs claimed per standby node in this pass.
      const claimed = new Map<SimNode, number>();
      for (const w of [...waiting]) {
        w.vm.endsAt = now + w.seconds; // (only the clairvoyant bound looks at it before placing)
        const n = await open(w.vm);
        if (n) {
          n.vms.push(w.vm);
          waiting.splice(waiting.indexOf(w), 1);
          if (now > w.since) waits.push(now - w.since);
          continue;
        }
        const standby = placementOrder(nodes.filter((x) => !x.on).map((x) => candidate(x, claimed.get(x) ?? 0)).filter((c) => c.free.cru >= w.vm.cores), sdkPlacement)[0]?.node;
        if (!standby) continue;
        claimed.set(standby, (claimed.get(standby) ?? 0) + w.vm.cores);
        // a node waking already: no-op; a bot with MAX_DEMAND_WAKES in flight refuses: asked again next step
        if (standby.bootsAt === undefined) await bot.wake(standby.id, "demand").catch(() => undefined);
      }
      if (now >= nextTick) { await tick(); nextTick = now + policy.periodSeconds; }
    }
    const s = bot.status();
    return {
      kwh: s.energy.kwh, alwaysOnKwh: s.energy.alwaysOnKwh, ratio: s.energy.ratio, savedKwh: s.energy.savedKwh, wakeLatency: s.wakeLatency,
      deploys, waited: waits.length, waitP50: quantile(waits, 0.5), waitP99: quantile(waits, 0.99), meanUtilisation: utilSum / samples, meanAwake: awakeSum / samples,
      oracleKwh: oracleJ / 3_600_000, oracleRatio: s.energy.alwaysOnKwh / (oracleJ / 3_600_000),
      oracleNodes: oracleNodes / samples, idleAwake: idleAwake / samples, busyAwake: busyAwake / samples, lifetimeScale: trace.lifetimeScale, clockSlips,
      vms, movableVms: allVms.filter((v) => v.consent < movable).length, moves: bots.moves, movesPerVm: bots.moves / vms, vacates, vacateGiveUps,
    };
  } finally {
    await chain.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { nodes: { type: "string", default: "8" }, hours: { type: "string", default: "24" }, util: { type: "string", default: "0.2" }, seed: { type: "string", default: "7" },
    policy: { type: "string", default: "{}" }, session2: { type: "boolean" }, "cold-start": { type: "boolean" }, placement: { type: "string", default: "pack" },
    movable: { type: "string", default: "0" }, "move-seconds": { type: "string", default: "120" }, "consent-affinity": { type: "boolean" } } });
  const r = await simulateFarmDay({ nodes: Number(values.nodes), hours: Number(values.hours), utilisation: Number(values.util), seed: Number(values.seed),
    coresPerNode: 32, vmHours: 2, swing: 0.8, bootSeconds: [60, 180], stepSeconds: 60,
    policy: { ...(values.session2 ? SESSION2_POLICY : FARM_DAY_POLICY), ...(JSON.parse(values.policy) as object) }, placement: values.placement === "spread" || values.placement === "clairvoyant" ? values.placement : "pack", coldStart: values["cold-start"] === true,
    movable: Number(values.movable), moveSeconds: Number(values["move-seconds"]), consentAffinity: values["consent-affinity"] === true });
  console.log(JSON.stringify(r, null, 2));
}
