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
 *   node bench/green/farm-day.ts [--nodes 8] [--hours 24] [--util 0.2] [--seed 7] [--placement pack|spread|clairvoyant] [--cold-start]
 */
import { parseArgs } from "node:util";
import { createLogger } from "@zgrid/log";
import { Farmerbot, openFarmerState, parseFarmerPolicy, type FarmerNodes, type FarmerPolicyInput, type WolSender } from "@zgrid/bot";
import { createGridClient, devAccount, startDevChain, GIB, type DevChain, type GridClient } from "@zgrid/chain";
import { placementOrder, type Placement } from "@zgrid/client";
import { createPublicClient, custom, type PublicClient } from "viem";
import { diurnalTrace, rng } from "./trace.ts";

export interface FarmDayOptions { nodes: number; hours: number; utilisation: number; seed: number; coresPerNode: number; vmHours: number; swing: number;
  /** Simulated boot (POST + zos boot) seconds: uniform in [min, max]. */
  bootSeconds: [number, number]; stepSeconds: number;
  /** Every node on at 00:00 (the figures before this option): the first passes power most off, a
   *  one-off no running farm's day has. Default: the nodes the night's VMs leave empty in standby. */
  coldStart?: boolean;
  /** The farmerbot's policy (farmId is set by the simulation); default FARM_DAY_POLICY. */
  policy?: Omit<FarmerPolicyInput, "farmId">;
  /** The SDK's placement the users deploy with (default pack), or `clairvoyant`: a bound, not a policy
   *  (it knows each VM's end: the node already on past it, tightest, else the one kept on least longer). */
  placement?: Placement | "clairvoyant" }

/**
 * The policy the farm-day runs by default: wake on demand only once wakes proved fast (boot is
 * 60–180 s here, so `fastWakeSeconds: 240`), power a node off a minute after it emptied (a pass
 * or two; session 5: 2, session 4: 10; with packing placement an emptied node is rarely the one
 * the next deploy wants), one node always on, a pass a minute. Predictive wake and a spare are
 * off: they buy fewer waits with energy (run.ts measures both on the same trace).
 */
export const FARM_DAY_POLICY: Omit<FarmerPolicyInput, "farmId"> = { minAwakeNodes: 1, idleMinutes: 1, fastWakeSeconds: 240, uptimeWakeHours: 20, periodSeconds: 60, wakeTimeoutSeconds: 600 };
/** Session 4's policy (2.51x on 8 nodes, simulation-only packing); session 5's had idleMinutes 2. */
export const SESSION4_POLICY: Omit<FarmerPolicyInput, "farmId"> = { ...FARM_DAY_POLICY, idleMinutes: 10 };
/** The policy of session 2's figures (2.61x): a 20% headroom always kept, 30 idle minutes, a pass every 5 min. */
export const SESSION2_POLICY: Omit<FarmerPolicyInput, "farmId"> = { minAwakeNodes: 1, idleMinutes: 30, uptimeWakeHours: 20, periodSeconds: 300, wakeTimeoutSeconds: 600 };

export interface FarmDayResult {
  kwh: number; alwaysOnKwh: number; ratio: number; savedKwh: number;
  wakeLatency: { p50: number; p99: number; count: number };
  deploys: number; waited: number; waitP50: number; waitP99: number; meanUtilisation: number; meanAwake: number;
  /**
   * The same trace's energy if exactly max(1, ceil(reserved vCPUs / vCPUs per node)) nodes were on
   * at every instant (perfect packing, instant wakes, VMs moved freely): what no policy without live
   * migration can beat. `oracleRatio` = always-on / that.
   */
  oracleKwh: number; oracleRatio: number;
  /**
   * Where the energy above the oracle goes, in mean nodes: `oracleNodes` = the oracle's mean nodes
   * on; `idleAwake` = nodes on (or booting) holding no VM (boots, holds before power-off, spares);
   * `busyAwake` = nodes on holding a VM (above `oracleNodes`: fragmentation, VMs spread over more
   * nodes than perfect packing needs).
   */
  oracleNodes: number; idleAwake: number; busyAwake: number;
  /** The trace's calibration: VM lifetimes were scaled by this so it offers exactly `utilisation`. */
  lifetimeScale: number;
  /** Steps that lasted longer than `stepSeconds` (more transactions in a step than seconds in it). */
  clockSlips: number;
}

interface SimVm { cores: number; endsAt: number }
/** Memory per vCPU of a simulated VM (a general-purpose 1:4 shape). */
const VM_GIB_PER_CORE = 4;
const NODE_MEMORY_GIB = 256;
/** What a simulated node reports of itself (zos.system.power_durations on a real node): exact, per step. */
interface SimDurations { onSeconds: number; offSeconds: number; reservedCoreSeconds: number; wakes: number; offs: number }
interface SimNode { id: number; twinId: number; mac: string; client: GridClient; on: boolean; bootsAt?: number; vms: SimVm[]; lastUptime: number; bootedAt: number; own: SimDurations }

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
        return { deployments: n.vms.length, usedCru: n.vms.reduce((s, v) => s + v.cores, 0) };
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
    let nextArrival = 0;
    const waiting: Array<{ vm: SimVm; since: number; seconds: number }> = [];
    const waits: number[] = [];
    let clockSlips = 0, deploys = 0, utilSum = 0, awakeSum = 0, samples = 0, nextTick = now, oracleJ = 0, oracleNodes = 0, idleAwake = 0, busyAwake = 0;
    const m = policy.energy;
    // What a node reports as free (zos.statistics.get: memory after the reserve max(10%, 2 GiB)),
    // and what the node finder shows for a standby one (its declared capacity less the reserve).
    const usableMru = (NODE_MEMORY_GIB - Math.max(NODE_MEMORY_GIB / 10, 2)) * Number(GIB);
    const used = (n: SimNode) => n.vms.reduce((s, v) => s + v.cores, 0);
    const candidate = (n: SimNode, claimed = 0) => {
      const cru = n.on ? o.coresPerNode - used(n) : o.coresPerNode - claimed;
      return { nodeId: n.id, standby: !n.on, node: n, free: { cru, mru: n.on ? usableMru - used(n) * VM_GIB_PER_CORE * Number(GIB) : usableMru - claimed * VM_GIB_PER_CORE * Number(GIB), sru: 2048 * Number(GIB), hru: 0 } };
    };
    // The SDK's pick: the awake nodes that fit, ordered by the user's placement policy.
    const sdkPlacement = o.placement === "clairvoyant" ? "pack" : o.placement;
    const lastEnd = (n: SimNode) => n.vms.reduce((a, v) => Math.max(a, v.endsAt), 0);
    const keptOnLonger = (n: SimNode, vm: SimVm) => (lastEnd(n) >= vm.endsAt ? lastEnd(n) - vm.endsAt : 1e12 + vm.endsAt - lastEnd(n));
    const place = (vm: SimVm): SimNode | undefined => {
      const fit = nodes.filter((n) => n.on).map((n) => candidate(n)).filter((c) => c.free.cru >= vm.cores);
      if (o.placement !== "clairvoyant") return placementOrder(fit, sdkPlacement)[0]?.node;
      return fit.sort((a, b) => keptOnLonger(a.node, vm) - keptOnLonger(b.node, vm) || a.free.cru - b.free.cru || a.nodeId - b.nodeId)[0]?.node;
    };

    // The VMs the trace holds at 00:00, packed.
    for (const v of trace.initial) {
      const vm = { cores: v.cores, endsAt: now + v.seconds };
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
        const coreSeconds = (n: SimNode) => n.vms.reduce((a, v) => a + v.cores * (Math.min(now, v.endsAt) - prev), 0);
        const reserved = nodes.reduce((s, n) => s + n.vms.reduce((a, v) => a + v.cores, 0), 0);
        const reservedSeconds = nodes.reduce((s, n) => s + coreSeconds(n), 0);
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
      // the trace's arrivals up to now (each keeps its lifetime from when it is placed)
      for (; nextArrival < trace.arrivals.length && trace.arrivals[nextArrival]!.at <= now - start; nextArrival++) {
        const a = trace.arrivals[nextArrival]!;
        waiting.push({ vm: { cores: a.cores, endsAt: 0 }, since: now, seconds: a.seconds });
        deploys++;
      }
      // Deploys still waiting for a node claim standby capacity (the SDK's pick falls back to a
      // standby node, a waking one included, then asks the bot to wake it; a deploy that finds the
      // node full once it is up picks again): vCPUs claimed per standby node in this pass.
      const claimed = new Map<SimNode, number>();
      for (const w of [...waiting]) {
        w.vm.endsAt = now + w.seconds; // (only the clairvoyant bound looks at it before placing)
        const n = place(w.vm);
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
      if (now >= nextTick) { await bot.tick(); nextTick = now + policy.periodSeconds; }
    }
    const s = bot.status();
    return {
      kwh: s.energy.kwh, alwaysOnKwh: s.energy.alwaysOnKwh, ratio: s.energy.ratio, savedKwh: s.energy.savedKwh, wakeLatency: s.wakeLatency,
      deploys, waited: waits.length, waitP50: quantile(waits, 0.5), waitP99: quantile(waits, 0.99), meanUtilisation: utilSum / samples, meanAwake: awakeSum / samples,
      oracleKwh: oracleJ / 3_600_000, oracleRatio: s.energy.alwaysOnKwh / (oracleJ / 3_600_000),
      oracleNodes: oracleNodes / samples, idleAwake: idleAwake / samples, busyAwake: busyAwake / samples, lifetimeScale: trace.lifetimeScale, clockSlips,
    };
  } finally {
    await chain.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { nodes: { type: "string", default: "8" }, hours: { type: "string", default: "24" }, util: { type: "string", default: "0.2" }, seed: { type: "string", default: "7" },
    policy: { type: "string", default: "{}" }, session2: { type: "boolean" }, "cold-start": { type: "boolean" }, placement: { type: "string", default: "pack" } } });
  const r = await simulateFarmDay({ nodes: Number(values.nodes), hours: Number(values.hours), utilisation: Number(values.util), seed: Number(values.seed),
    coresPerNode: 32, vmHours: 2, swing: 0.8, bootSeconds: [60, 180], stepSeconds: 60,
    policy: { ...(values.session2 ? SESSION2_POLICY : FARM_DAY_POLICY), ...(JSON.parse(values.policy) as object) }, placement: values.placement === "spread" || values.placement === "clairvoyant" ? values.placement : "pack", coldStart: values["cold-start"] === true });
  console.log(JSON.stringify(r, null, 2));
}
