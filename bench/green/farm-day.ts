/**
 * Farm-day simulation: the REAL farmerbot (decisions, memory, ledgers, energy model) against the
 * REAL dev chain (power target/state, rent checks, uptime proofs are real transactions), with the
 * nodes' power switch and the nodes' workloads SIMULATED (labelled so): a simulated node answers
 * statistics from its simulated VMs, honours `power_off` like zosd (refuses with workloads or when
 * rented, reports standby on chain), is woken by the bot's magic packet after a simulated boot
 * time, and reports uptime every 40 min while on. Time is compressed: the chain's clock is moved
 * forward step by step and the bot reads it.
 *
 * Workload trace: VMs of 1, 2 or 4 vCPUs, lifetimes exponential (mean `vmHours`), Poisson arrivals
 * whose rate follows a diurnal curve (peak 15:00, trough 03:00, ±`swing`) scaled so the farm's mean
 * reserved vCPUs are `utilisation` of its total. Placement packs (best fit on awake nodes); a VM
 * that fits no awake node asks the bot to wake a standby node (demand) and waits.
 *
 *   node bench/green/farm-day.ts [--nodes 8] [--hours 24] [--util 0.2] [--seed 7]
 */
import { parseArgs } from "node:util";
import { createLogger } from "@zgrid/log";
import { Farmerbot, openFarmerState, parseFarmerPolicy, type FarmerNodes, type FarmerPolicyInput, type WolSender } from "@zgrid/bot";
import { createGridClient, startDevChain, GIB, type GridClient } from "@zgrid/chain";

export interface FarmDayOptions { nodes: number; hours: number; utilisation: number; seed: number; coresPerNode: number; vmHours: number; swing: number;
  /** Simulated boot (POST + zos boot) seconds: uniform in [min, max]. */
  bootSeconds: [number, number]; stepSeconds: number;
  /** The farmerbot's policy (farmId is set by the simulation); default FARM_DAY_POLICY. */
  policy?: Omit<FarmerPolicyInput, "farmId"> }

/**
 * The policy the farm-day runs by default: wake on demand only once wakes proved fast (boot is
 * 60–180 s here, so `fastWakeSeconds: 240`), power off after 10 idle minutes, one node always on,
 * a pass a minute.
 */
export const FARM_DAY_POLICY: Omit<FarmerPolicyInput, "farmId"> = { minAwakeNodes: 1, idleMinutes: 10, fastWakeSeconds: 240, uptimeWakeHours: 20, periodSeconds: 60, wakeTimeoutSeconds: 600 };
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
}

interface SimVm { cores: number; endsAt: number }
/** What a simulated node reports of itself (zos.system.power_durations on a real node): exact, per step. */
interface SimDurations { onSeconds: number; offSeconds: number; reservedCoreSeconds: number; wakes: number; offs: number }
interface SimNode { id: number; twinId: number; mac: string; client: GridClient; on: boolean; bootsAt?: number; vms: SimVm[]; lastUptime: number; bootedAt: number; own: SimDurations }

/** mulberry32 (as packages/zos/src/testing/seeded-random.ts): a seeded run replays exactly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0; };

export async function simulateFarmDay(o: FarmDayOptions): Promise<FarmDayResult> {
  const rand = rng(o.seed);
  const chain = await startDevChain({ twins: 1 + o.nodes });
  try {
    const client = (k: `0x${string}`) => createGridClient({ rpcUrl: chain.rpcUrl, addresses: chain.addresses, account: k, pollingIntervalMs: 5 });
    const farmer = client(chain.twins[0]!.privateKey);
    const farmId = await farmer.createFarm({ name: "green-farm" });
    const nodes: SimNode[] = [];
    for (let i = 0; i < o.nodes; i++) {
      const c = client(chain.twins[i + 1]!.privateKey);
      const mac = `02:00:00:00:01:${(i + 1).toString(16).padStart(2, "0")}`;
      const id = await c.registerNode({ farmId, resources: { cru: BigInt(o.coresPerNode), mru: 256n * GIB, sru: 2048n * GIB, hru: 0n }, interfaces: [{ name: "eth0", mac, ips: [] }] });
      nodes.push({ id, twinId: chain.twins[i + 1]!.twinId, mac, client: c, on: true, vms: [], lastUptime: 0, bootedAt: 0, own: { onSeconds: 0, offSeconds: 0, reservedCoreSeconds: 0, wakes: 0, offs: 0 } });
    }
    let now = Number((await chain.publicClient.getBlock()).timestamp);
    const start = now;
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
    const meanCores = 7 / 3; // sizes 1, 2, 4 equally likely
    const baseRate = (o.utilisation * totalCores) / meanCores / (o.vmHours * 3600); // arrivals per second
    const rate = (t: number) => baseRate * (1 + o.swing * Math.sin((2 * Math.PI * ((t - start) / 86400 - 9 / 24))));
    const waiting: Array<{ vm: SimVm; since: number; wakeAsked: boolean }> = [];
    const waits: number[] = [];
    let deploys = 0, utilSum = 0, awakeSum = 0, samples = 0, nextTick = now, oracleJ = 0;
    const m = policy.energy;
    const place = (vm: SimVm): SimNode | undefined => nodes.filter((n) => n.on && o.coresPerNode - n.vms.reduce((s, v) => s + v.cores, 0) >= vm.cores)
      .sort((a, b) => b.vms.reduce((s, v) => s + v.cores, 0) - a.vms.reduce((s, v) => s + v.cores, 0) || a.id - b.id)[0];

    // Steady state at the start (Little's law): the VMs the trace would hold at 00:00, packed.
    for (let i = 0, count = Math.round(rate(now) * o.vmHours * 3600); i < count; i++) {
      const vm = { cores: [1, 2, 4][Math.floor(rand() * 3)]!, endsAt: now - Math.log(1 - rand()) * o.vmHours * 3600 };
      place(vm)?.vms.push(vm);
    }
    while (now - start < o.hours * 3600) {
      await chain.advanceTime(o.stepSeconds);
      // Every transaction moves the chain's clock too: the chain's clock is the simulation's, and a
      // step lasts what it moved (arrivals and the averages below use that, not stepSeconds).
      const prev = now;
      now = Number((await chain.publicClient.getBlock()).timestamp);
      const dt = now - prev;
      {
        const reserved = nodes.reduce((s, n) => s + n.vms.reduce((a, v) => a + v.cores, 0), 0);
        const k = Math.max(1, Math.ceil(reserved / o.coresPerNode));
        oracleJ += dt * (k * m.idleWatts + (o.nodes - k) * m.offWatts + reserved * m.vmCpuDuty * m.wattsPerBusyCore);
        utilSum += dt * reserved / totalCores;
        awakeSum += dt * nodes.filter((n) => n.on || n.bootsAt !== undefined).length;
        samples += dt;
        // Each simulated node's own ledger (booting draws power: counted on).
        for (const n of nodes) {
          if (n.on || n.bootsAt !== undefined) {
            n.own.onSeconds += dt;
            n.own.reservedCoreSeconds += dt * n.vms.reduce((a, v) => a + v.cores, 0);
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
      // arrivals in this step
      let k = 0; const lambda = rate(now) * dt;
      for (let p = Math.exp(-lambda), acc = p, u = rand(); u > acc && k < 1000; k++) { p *= lambda / (k + 1); acc += p; }
      for (let i = 0; i < k; i++) {
        const cores = [1, 2, 4][Math.floor(rand() * 3)]!;
        waiting.push({ vm: { cores, endsAt: 0 }, since: now, wakeAsked: false });
        deploys++;
      }
      for (const w of [...waiting]) {
        const n = place(w.vm);
        if (n) {
          w.vm.endsAt = now - Math.log(1 - rand()) * o.vmHours * 3600;
          n.vms.push(w.vm);
          waiting.splice(waiting.indexOf(w), 1);
          if (now > w.since) waits.push(now - w.since);
          continue;
        }
        if (!w.wakeAsked) {
          const standby = nodes.find((x) => !x.on && x.bootsAt === undefined);
          if (standby) await bot.wake(standby.id, "demand").catch(() => undefined);
          w.wakeAsked = true;
        }
      }
      if (now >= nextTick) { await bot.tick(); nextTick = now + policy.periodSeconds; }
    }
    const s = bot.status();
    return {
      kwh: s.energy.kwh, alwaysOnKwh: s.energy.alwaysOnKwh, ratio: s.energy.ratio, savedKwh: s.energy.savedKwh, wakeLatency: s.wakeLatency,
      deploys, waited: waits.length, waitP50: quantile(waits, 0.5), waitP99: quantile(waits, 0.99), meanUtilisation: utilSum / samples, meanAwake: awakeSum / samples,
      oracleKwh: oracleJ / 3_600_000, oracleRatio: s.energy.alwaysOnKwh / (oracleJ / 3_600_000),
    };
  } finally {
    await chain.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { nodes: { type: "string", default: "8" }, hours: { type: "string", default: "24" }, util: { type: "string", default: "0.2" }, seed: { type: "string", default: "7" },
    policy: { type: "string", default: "{}" }, session2: { type: "boolean" } } });
  const r = await simulateFarmDay({ nodes: Number(values.nodes), hours: Number(values.hours), utilisation: Number(values.util), seed: Number(values.seed),
    coresPerNode: 32, vmHours: 2, swing: 0.8, bootSeconds: [60, 180], stepSeconds: 60,
    policy: { ...(values.session2 ? SESSION2_POLICY : FARM_DAY_POLICY), ...(JSON.parse(values.policy) as object) } });
  console.log(JSON.stringify(r, null, 2));
}
