/**
 * The farmerbot: a farm's agent (the farmer's key) that powers idle nodes off and wakes them.
 * Each pass observes the farm (chain: nodes, power target/state, rent, uptime proofs; each awake
 * node's own statistics over the bus), updates its memory and energy ledgers, decides (decide.ts)
 * and acts: power-off = target down on chain, then `zos.system.power_off` to the node (which
 * refuses if it holds workloads or is rented: the target goes back up); wake = target up on chain,
 * then a Wake-on-LAN magic packet to the node's MAC; vacate = target down on chain only (the owners'
 * 3bots re-place the movable deployments, then the empty node is powered off). Demand wakes (`wake()`, the bus route in
 * wake-route.ts) take the same path. State is saved after every change (farmer-state.ts).
 *
 * @example
 * ```ts
 * const bot = new Farmerbot({ policy, chain: farmerGridClient, nodes: busFarmerNodes(bus), wol: udpWolSender(policy.wol), state: openFarmerState(file), log });
 * await bot.tick();          // one pass: the actions taken
 * bot.start();               // every policy.periodSeconds
 * await bot.wake(3);         // { node_id: 3, state: "waking" }
 * bot.status();              // nodes, power states, energy (kWh, saved vs always-on)
 * ```
 */
import type { Logger } from "@zgrid/log";
import { BaseError } from "@zgrid/types";
import { decide, type Action, type NodeMemory, type NodeView, type WakeReason } from "./decide.ts";
import { energyReport, type EnergyReport } from "./energy-model.ts";
import type { FarmerPolicy } from "./farmer-policy.ts";
import { advanceLedger, newLedger, type FarmerStateStore, type NodeDurations, type PowerLedger } from "./farmer-state.ts";
import { forecastUsedCru, observeFarm, rememberView } from "./farm-observe.ts";
import type { WolSender } from "./wol-sender.ts";

export interface FarmerChain {
  nodeCount(): Promise<number>;
  getNode(nodeId: number): Promise<{ id: number; farmId: number; twinId: number; interfaces: { name: string; mac: string }[];
    resources: { cru: bigint }; lastUptimeReport: bigint; power: { target: "up" | "down"; state: "up" | "down"; changedAt?: bigint } }>;
  rentContractOf(nodeId: number): Promise<number>;
  setPowerTarget(nodeId: number, up: boolean): Promise<void>;
}

/** The bot's calls to its nodes (over the bus: busFarmerNodes). */
export interface FarmerNodes {
  /** Live deployments, how many of them are movable (absent: none) and used vCPUs; undefined when the node does not answer. */
  statistics(twinId: number): Promise<{ deployments: number; usedCru: number; movable?: number } | undefined>;
  powerOff(twinId: number, reason: string): Promise<void>;
  /** The node's own power-state durations (`zos.system.power_durations`); absent: the bot measures. */
  durations?(twinId: number): Promise<NodeDurations | undefined>;
}

/** Demand wakes in flight at once (a hostile twin cannot wake the whole farm). */
export const MAX_DEMAND_WAKES = 3;

/**
 * A demand wake asked again for a node still waking sends another magic packet when the last one is
 * at least this old (s): a magic packet is one UDP broadcast, and one that reaches a machine still
 * shutting down (its NIC's Wake-on-LAN not armed yet) is lost — the next pass's resend comes only
 * after `wakeTimeoutSeconds`. Bounded per node, so a twin asking in a loop sends at most one per period.
 */
export const DEMAND_RESEND_SECONDS = 15;

export class WakeRefusedError extends BaseError {
  override readonly code: string = "WAKE_REFUSED";
}

export interface FarmerbotOptions {
  policy: FarmerPolicy;
  chain: FarmerChain;
  nodes: FarmerNodes;
  wol: WolSender;
  state: FarmerStateStore;
  log: Logger;
  /** Unix seconds (a compressed clock in the farm-day simulation). */
  now?: () => number;
}

export interface FarmerNodeStatus {
  nodeId: number;
  power: "up" | "standby" | "waking";
  target: "up" | "down";
  rented: boolean;
  deployments: number | undefined;
  /** Its target is down while its movable deployments are re-placed (consolidation). */
  vacating: boolean;
  ledger: PowerLedger;
}

export interface FarmerStatus {
  farmId: number;
  nodes: FarmerNodeStatus[];
  energy: EnergyReport;
  wakeLatency: { count: number; p50: number; p99: number };
}

export class Farmerbot {
  private readonly o: FarmerbotOptions;
  private readonly now: () => number;
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private views: NodeView[] = [];
  /** The farm's used vCPUs per pass (unix s, vCPUs) over the forecast window (not persisted: refills after a restart). */
  private usedHistory: Array<[number, number]> = [];

  constructor(o: FarmerbotOptions) {
    this.o = o;
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  private get memory(): Map<number, NodeMemory> {
    return new Map(Object.entries(this.o.state.state.nodes).map(([id, n]) => [Number(id), n.memory]));
  }

  private entry(nodeId: number, power: "on" | "off") {
    return (this.o.state.state.nodes[String(nodeId)] ??= { memory: {}, ledger: newLedger(this.now(), power) });
  }

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.lock.then(f, f);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** One pass: observe, decide, act. Returns the actions taken. */
  tick(): Promise<Action[]> {
    return this.exclusive(async () => {
      this.views = await this.observe();
      this.recordUsed();
      const forecastUsedCru = this.forecast();
      const actions = decide(this.o.policy, this.views, this.memory, this.now(), { wakeFast: this.wakeFast(), ...(forecastUsedCru !== undefined ? { forecastUsedCru } : {}) });
      for (const a of actions) await this.act(a).catch((e: unknown) => this.o.log.warn({ err: e, action: a }, "farmerbot action failed"));
      this.o.state.save();
      return actions;
    });
  }

  /** Wakes a standby node of the farm (demand); no-op for a node that is up or waking. */
  wake(nodeId: number, reason: WakeReason = "demand"): Promise<{ node_id: number; state: "up" | "waking" }> {
    return this.exclusive(async () => {
      const n = await this.o.chain.getNode(nodeId).catch(() => undefined);
      if (!n || n.id === 0 || n.farmId !== this.o.policy.farmId) throw new WakeRefusedError(`node ${nodeId} is not a node of farm ${this.o.policy.farmId}`);
      if (n.power.state === "up") {
        if (n.power.target === "down") await this.o.chain.setPowerTarget(nodeId, true);
        return { node_id: nodeId, state: "up" as const };
      }
      const mem = this.entry(nodeId, "off").memory;
      if (mem.wakingSince === undefined) {
        const inFlight = Object.values(this.o.state.state.nodes).filter((e) => e.memory.wakingSince !== undefined && e.memory.wakeReason === "demand").length;
        if (reason === "demand" && inFlight >= MAX_DEMAND_WAKES) {
          throw new WakeRefusedError(`${inFlight} nodes of farm ${this.o.policy.farmId} are waking already`, { hint: "wait for one of them (a minute or two) and try again" });
        }
        await this.startWake(nodeId, reason);
      } else if (this.now() - (mem.lastWolAt ?? 0) >= DEMAND_RESEND_SECONDS) {
        const mac = n.interfaces[0]?.mac;
        if (mac) await this.sendAgain(nodeId, mac, "asked again while waking");
      }
      this.o.state.save();
      return { node_id: nodeId, state: "waking" as const };
    });
  }

  /** Nodes, power states and energy as of the last pass. */
  status(): FarmerStatus {
    const nodes = this.views.map((v): FarmerNodeStatus => {
      const e = this.o.state.state.nodes[String(v.nodeId)]!;
      const power = v.state === "up" ? "up" : e?.memory.wakingSince !== undefined ? "waking" : "standby";
      return { nodeId: v.nodeId, power, target: v.target, rented: v.rented, deployments: v.deployments, vacating: e.memory.vacatingSince !== undefined, ledger: e.ledger };
    });
    const lat = [...this.o.state.state.wakeLatencies].sort((a, b) => a - b);
    const q = (f: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]! : 0);
    return { farmId: this.o.policy.farmId, nodes, energy: energyReport(this.o.policy.energy, nodes.map((n) => n.ledger)), wakeLatency: { count: lat.length, p50: q(0.5), p99: q(0.99) } };
  }

  /** The farm's last wakes (p90 of up to 20, at least 3) were within policy.fastWakeSeconds. */
  wakeFast(): boolean {
    const limit = this.o.policy.fastWakeSeconds;
    const recent = this.o.state.state.wakeLatencies.slice(-20).sort((a, b) => a - b);
    if (limit <= 0 || recent.length < 3) return false;
    return recent[Math.min(recent.length - 1, Math.floor(0.9 * recent.length))]! <= limit;
  }

  /**
   * The farm's used vCPUs `forecastMinutes` ahead: the last pass's plus the least-squares slope of
   * the passes in the window times the lead. Undefined when the forecast is off, the history is
   * shorter than half the window, or the load is not rising (a falling trend never wakes a node).
   */
  forecast(): number | undefined {
    return forecastUsedCru(this.usedHistory, this.o.policy);
  }

  // The last pass's used vCPUs joins the history; older than the window leaves it.
  private recordUsed(): void {
    const now = this.now();
    const used = this.views.reduce((s, v) => s + (v.state === "up" ? v.usedCru : 0), 0);
    this.usedHistory = [...this.usedHistory.filter(([t]) => t > now - this.o.policy.forecastWindowMinutes * 60 && t < now), [now, used]];
  }

  start(): void {
    const loop = () => {
      this.timer = setTimeout(() => void this.tick().catch((e: unknown) => this.o.log.warn({ err: e }, "farmerbot pass failed")).finally(() => { if (this.timer) loop(); }), this.o.policy.periodSeconds * 1000);
    };
    void this.tick().catch((e: unknown) => this.o.log.warn({ err: e }, "farmerbot pass failed"));
    loop();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.lock;
  }

  private async observe(): Promise<NodeView[]> {
    const seen = await observeFarm(this.o.chain, this.o.nodes, this.o.policy.farmId);
    const now = this.now();
    for (const { view, durations } of seen) rememberView(this.o.state.state, view, now, durations);
    return seen.map((x) => x.view);
  }

  private async startWake(nodeId: number, reason: WakeReason): Promise<void> {
    const view = this.views.find((v) => v.nodeId === nodeId);
    const mac = view?.mac || (await this.o.chain.getNode(nodeId)).interfaces[0]?.mac;
    if (!mac) throw new WakeRefusedError(`node ${nodeId} registered no NIC MAC on chain: it cannot be woken by Wake-on-LAN`);
    const e = this.entry(nodeId, "off");
    const now = this.now();
    e.memory.wakingSince = now; e.memory.lastWolAt = now; e.memory.wakeReason = reason;
    // a wake ends any power-off in progress (one no pass saw through would keep the node from ever
    // being vacated, or finished off, later)
    delete e.memory.offPendingAt;
    advanceLedger(e.ledger, now, "on", 0);
    this.o.state.save();
    await this.o.chain.setPowerTarget(nodeId, true);
    await this.o.wol.send(mac);
    this.o.log.info({ node: nodeId, reason, mac }, "waking node: magic packet sent");
  }

  /** Another magic packet to a node still waking (a pass's resend, or a demand asked again). */
  private async sendAgain(nodeId: number, mac: string, why: string): Promise<void> {
    this.entry(nodeId, "on").memory.lastWolAt = this.now();
    await this.o.wol.send(mac);
    this.o.log.warn({ node: nodeId, mac }, `${why}: magic packet sent again`);
  }

  private async act(a: Action): Promise<void> {
    const { chain, nodes, log } = this.o;
    const view = this.views.find((v) => v.nodeId === a.nodeId)!;
    switch (a.kind) {
      case "wake":
        return this.startWake(a.nodeId, a.reason);
      case "resend":
        await chain.setPowerTarget(a.nodeId, true);
        return this.sendAgain(a.nodeId, view.mac, "node not up yet");
      case "target-up": {
        await chain.setPowerTarget(a.nodeId, true);
        const m = this.entry(a.nodeId, "on").memory;
        if (m.vacatingSince !== undefined) {
          // Giving up a vacating: remembered, so the node is left alone for vacateTimeoutMinutes.
          delete m.vacatingSince;
          m.vacateGaveUpAt = this.now(); m.vacateGaveUp = a.reason ?? "target up";
          log.warn({ node: a.nodeId, reason: a.reason }, "vacating given up: target up again");
        }
        return;
      }
      case "vacate": {
        // Memory first (a crash after the transaction leaves a node the bot knows it vacates).
        const m = this.entry(a.nodeId, "on").memory;
        m.vacatingSince = this.now();
        this.o.state.save();
        try {
          await chain.setPowerTarget(a.nodeId, false);
        } catch (e) {
          delete m.vacatingSince;
          throw e;
        }
        log.info({ node: a.nodeId, reason: a.reason }, "vacating node: target down, its movable deployments are re-placed by their owners");
        return;
      }
      case "off": {
        const m = this.entry(a.nodeId, "on").memory;
        m.offPendingAt = this.now();
        this.o.state.save();
        await chain.setPowerTarget(a.nodeId, false);
        try {
          await nodes.powerOff(view.twinId, a.reason);
          log.info({ node: a.nodeId, reason: a.reason }, "node powering off (standby)");
          // a vacated node's move is over once it powers off
          if (m.vacatingSince !== undefined) { delete m.vacatingSince; this.o.state.save(); }
        } catch (e) {
          delete m.offPendingAt; delete m.vacatingSince;
          await chain.setPowerTarget(a.nodeId, true);
          throw e;
        }
      }
    }
  }
}
