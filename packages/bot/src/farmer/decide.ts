/**
 * The farmerbot's decision, a pure function of what it observed (chain + nodes), what it remembers
 * (per-node memory, persisted) and its policy: level-based, so running it again after a crash or a
 * missed pass converges to the same place.
 *
 * Rules, in order:
 * - never power off a node that is rented, holds workloads, or did not answer (unknown = busy);
 * - a standby node whose last uptime proof on chain is older than `uptimeWakeHours` is woken so it
 *   proves uptime, and powered off again as soon as it did (if still idle);
 * - keep max(minAwakeNodes, minAwakePercent of the farm) nodes awake (awake = up or waking);
 * - keep `spareCorePercent` of the farm's vCPUs free on awake nodes (a waking node counts whole);
 * - predictive wake: when the used vCPUs projected `forecastMinutes` ahead (`ctx.forecastUsedCru`)
 *   pass `forecastFillPercent` of the awake nodes' vCPUs, wake one more (one such wake at a time);
 * - wake one more node when the awake nodes' used vCPUs pass `wakeAtUsedPercent` of theirs — unless
 *   the farm's wakes are fast (`ctx.wakeFast`, see `fastWakeSeconds`): then no spare is kept and a
 *   deploy that fits no awake node waits for a demand wake;
 * - a node idle for `idleMinutes` is powered off, longest idle first, while the rules above hold;
 * - a node woken but not up after `wakeTimeoutSeconds` gets another magic packet;
 * - repairs: target down while the node is up and busy (and not vacating) -> target up; target up
 *   while it is down and nobody wakes it -> wake it;
 * - consolidation by consent (`consolidate`, like the cluster-autoscaler's scale-down): one node at
 *   a time (none while another vacates) that is up, target up, not rented, answered, holds only
 *   movable deployments (`movable === deployments > 0`) and uses at most `consolidateBelowPercent`
 *   of its vCPUs is vacated (target down: its tenants' 3bots re-place their movable replicas
 *   make-before-break, the node finder offers it no new deploy) when its used vCPUs fit the other
 *   up, target-up nodes below the wake threshold above (`wakeAtUsedPercent`, 100 while wakes are
 *   fast; `consolidateFillPercent` if lower) and the floor, spare and forecast rules still hold
 *   without it; the least used first. A vacating node counts its load but none of its vCPUs in
 *   the rules above. Once empty it is powered off at once (no `idleMinutes` wait). It gives up
 *   (target up, why remembered) after `vacateTimeoutMinutes`, when it no longer holds only movable
 *   deployments or is rented, or when it emptied but the rules above need it awake; a node that
 *   gave up is not vacated again for `vacateTimeoutMinutes` (a load that does not fit node by node
 *   would otherwise loop).
 *
 * @example
 * ```ts
 * const actions = decide(policy, nodes, memory, nowSeconds, { wakeFast: false });
 * // [{ kind: "off", nodeId: 3, reason: "idle 31 min" }, { kind: "wake", nodeId: 2, reason: "uptime" },
 * //  { kind: "vacate", nodeId: 5, reason: "4 of 32 vCPUs used, all 2 deployments movable: …" }]
 * ```
 */
import type { FarmerPolicy } from "./farmer-policy.ts";

export interface NodeView {
  nodeId: number;
  twinId: number;
  /** The MAC of its underlay NIC on chain (magic packets name it); empty when it registered none. */
  mac: string;
  target: "up" | "down";
  state: "up" | "down";
  rented: boolean;
  /** Live deployments the node reports; undefined when it did not answer. */
  deployments: number | undefined;
  usedCru: number;
  totalCru: number;
  /** Unix seconds of its last uptime proof on chain. */
  lastUptimeReport: number;
  /** Unix seconds of its last power state change on chain (the node's own `setPowerState`). */
  changedAt?: number;
  /** Of `deployments`, how many their owners marked movable (consent to be re-placed); undefined = 0. */
  movable?: number;
}

/** What the bot measured about the farm (not per node). */
export interface DecideContext {
  /** The farm's recent wakes were within `fastWakeSeconds`: no spare capacity is kept awake. */
  wakeFast?: boolean;
  /** The farm's used vCPUs projected `forecastMinutes` ahead from their trend (policy forecast on). */
  forecastUsedCru?: number;
}

export type WakeReason = "demand" | "uptime" | "minimum" | "capacity" | "forecast" | "repair";

/** What the bot remembers per node (persisted in its state file). */
export interface NodeMemory {
  /** Since when (unix s) it was seen without workloads. */
  idleSince?: number;
  /** A wake in progress: first magic packet at, last one at, why. */
  wakingSince?: number;
  lastWolAt?: number;
  wakeReason?: WakeReason;
  /** When the node came up the last time (unix s) and why it was woken. */
  upSince?: number;
  upReason?: WakeReason;
  /** A power-off was started at (the target went down first). */
  offPendingAt?: number;
  /** Being vacated since (unix s): target down so its movable deployments are re-placed elsewhere. */
  vacatingSince?: number;
  /** The last vacating that gave up: when and why (not vacated again for `vacateTimeoutMinutes`). */
  vacateGaveUpAt?: number;
  vacateGaveUp?: string;
}

export type Action =
  | { kind: "wake"; nodeId: number; reason: WakeReason }
  | { kind: "resend"; nodeId: number }
  | { kind: "off"; nodeId: number; reason: string }
  | { kind: "target-up"; nodeId: number; reason?: string }
  | { kind: "vacate"; nodeId: number; reason: string };

/** Nodes the policy keeps awake for a farm of `count` nodes. */
export function minAwake(p: Pick<FarmerPolicy, "minAwakeNodes" | "minAwakePercent">, count: number): number {
  return Math.min(count, Math.max(p.minAwakeNodes, Math.ceil((p.minAwakePercent / 100) * count)));
}

const busy = (n: NodeView) => n.rented || n.deployments === undefined || n.deployments > 0;

export function decide(p: FarmerPolicy, nodes: NodeView[], memory: ReadonlyMap<number, NodeMemory>, now: number, ctx: DecideContext = {}): Action[] {
  // How full the awake nodes may get before one more is woken (100: only demand wakes).
  const fill = ctx.wakeFast ? 100 : p.wakeAtUsedPercent;
  const mem = (id: number) => memory.get(id) ?? {};
  const waking = (n: NodeView) => n.state === "down" && mem(n.nodeId).wakingSince !== undefined;
  const actions: Action[] = [];
  const woken = new Set<number>();
  const wake = (n: NodeView, reason: WakeReason) => {
    if (woken.has(n.nodeId)) return;
    woken.add(n.nodeId);
    actions.push({ kind: "wake", nodeId: n.nodeId, reason });
  };

  // Vacating: target down (by this bot, memory says so) while its deployments move elsewhere.
  const vacating = (n: NodeView) => n.state === "up" && n.target === "down" && mem(n.nodeId).vacatingSince !== undefined;
  const gaveUp = new Set<number>();
  for (const n of nodes) {
    if (waking(n)) {
      if (now - (mem(n.nodeId).lastWolAt ?? 0) >= p.wakeTimeoutSeconds) actions.push({ kind: "resend", nodeId: n.nodeId });
      continue;
    }
    if (n.state === "down" && n.target === "up") wake(n, "repair");
    else if (n.state === "down" && now - n.lastUptimeReport >= p.uptimeWakeHours * 3600) wake(n, "uptime");
    else if (vacating(n)) {
      const why = vacateFailure(p, n, now - mem(n.nodeId).vacatingSince!);
      if (why) {
        gaveUp.add(n.nodeId);
        actions.push({ kind: "target-up", nodeId: n.nodeId, reason: why });
      }
    } else if (n.state === "up" && n.target === "down" && busy(n) && mem(n.nodeId).offPendingAt === undefined) actions.push({ kind: "target-up", nodeId: n.nodeId });
  }
  // A node being vacated is no capacity (no new deploy lands on it) but its load is still there.
  const cap = (n: NodeView) => (vacating(n) && !gaveUp.has(n.nodeId) ? 0 : n.totalCru);

  const isAwake = (n: NodeView) => n.state === "up" || waking(n) || woken.has(n.nodeId);
  const standby = nodes.filter((n) => !isAwake(n)).sort((a, b) => a.nodeId - b.nodeId);
  const floor = minAwake(p, nodes.length);
  let awake = nodes.filter(isAwake).length;
  while (awake < floor && standby.length) {
    wake(standby.shift()!, "minimum");
    awake++;
  }
  const usage = (set: NodeView[]) => {
    const total = set.reduce((s, n) => s + cap(n), 0);
    return total ? (100 * set.reduce((s, n) => s + (n.state === "up" ? n.usedCru : 0), 0)) / total : 0;
  };
  const awakeSet = () => nodes.filter(isAwake);
  if (usage(awakeSet()) > fill && standby.length && !nodes.some((n) => waking(n) && mem(n.nodeId).wakeReason === "capacity")) {
    wake(standby.shift()!, "capacity");
    awake++;
  }
  // The spare: free vCPUs on awake nodes (a waking node has all of its vCPUs free).
  const spare = (p.spareCorePercent / 100) * nodes.reduce((s, n) => s + n.totalCru, 0);
  const freeCru = (set: NodeView[]) => set.reduce((s, n) => s + cap(n) - (n.state === "up" ? n.usedCru : 0), 0);
  while (spare > 0 && freeCru(awakeSet()) < spare && standby.length) {
    wake(standby.shift()!, "capacity");
    awake++;
  }

  // Predictive wake: the projected load would fill the awake nodes past forecastFillPercent.
  const cruOf = (set: NodeView[]) => set.reduce((s, n) => s + cap(n), 0);
  const forecastFits = (set: NodeView[]) => ctx.forecastUsedCru === undefined || ctx.forecastUsedCru <= (p.forecastFillPercent / 100) * cruOf(set);
  if (!forecastFits(awakeSet()) && standby.length && !nodes.some((n) => waking(n) && mem(n.nodeId).wakeReason === "forecast")) {
    wake(standby.shift()!, "forecast");
    awake++;
  }

  // Power-offs: idle long enough (or woken for an uptime proof that is done), longest idle first.
  const offs = new Set<number>();
  const candidates = nodes.filter((n) => n.state === "up" && !busy(n) && !woken.has(n.nodeId)).flatMap((n) => {
    const m = mem(n.nodeId);
    const proofDone = m.upReason === "uptime" && m.upSince !== undefined && n.lastUptimeReport >= m.upSince;
    const idleFor = m.idleSince === undefined ? 0 : now - m.idleSince;
    // Vacated: its deployments moved away; the target is down already: no idle wait.
    if (vacating(n)) return [{ n, idleFor: Number.MAX_SAFE_INTEGER, reason: `vacated in ${Math.round((now - m.vacatingSince!) / 60)} min` }];
    if (proofDone) return [{ n, idleFor: Number.MAX_SAFE_INTEGER, reason: "uptime proof done" }];
    if (m.idleSince !== undefined && idleFor >= p.idleMinutes * 60) return [{ n, idleFor, reason: `idle ${Math.round(idleFor / 60)} min` }];
    if (n.target === "down" && m.offPendingAt !== undefined) return [{ n, idleFor: Number.MAX_SAFE_INTEGER, reason: "finish power-off" }];
    return [];
  }).sort((a, b) => b.idleFor - a.idleFor || a.n.nodeId - b.n.nodeId);
  for (const c of candidates) {
    const rest = awakeSet().filter((n) => n.nodeId !== c.n.nodeId && !offs.has(n.nodeId));
    if (awake - 1 < floor || usage(rest) > fill || freeCru(rest) < spare || !forecastFits(rest)) continue;
    offs.add(c.n.nodeId);
    awake--;
    actions.push({ kind: "off", nodeId: c.n.nodeId, reason: c.reason });
  }
  // Emptied, yet the rules above keep it awake: offer it to deploys again.
  for (const n of nodes) {
    if (vacating(n) && !gaveUp.has(n.nodeId) && !busy(n) && !offs.has(n.nodeId)) actions.push({ kind: "target-up", nodeId: n.nodeId, reason: "emptied, but needed awake" });
  }

  // Consolidation: vacate one all-movable, lightly used node whose load the other nodes can take.
  if (p.consolidate && !nodes.some(vacating)) {
    const receivers = nodes.filter((n) => n.state === "up" && n.target === "up" && !n.rented && n.deployments !== undefined && !offs.has(n.nodeId));
    const cooled = (n: NodeView) => { const at = mem(n.nodeId).vacateGaveUpAt; return at === undefined || now - at >= p.vacateTimeoutMinutes * 60; };
    const candidates = receivers.filter((n) => n.deployments! > 0 && (n.movable ?? 0) === n.deployments && n.usedCru <= (p.consolidateBelowPercent / 100) * n.totalCru &&
      mem(n.nodeId).offPendingAt === undefined && cooled(n)).sort((a, b) => a.usedCru - b.usedCru || a.nodeId - b.nodeId);
    for (const c of candidates) {
      const others = receivers.filter((n) => n.nodeId !== c.nodeId);
      const room = others.reduce((s, n) => s + n.totalCru, 0);
      const load = others.reduce((s, n) => s + n.usedCru, 0) + c.usedCru;
      const rest = awakeSet().filter((n) => n.nodeId !== c.nodeId && !offs.has(n.nodeId));
      if (!room || (100 * load) / room > Math.min(fill, p.consolidateFillPercent) || awake - 1 < floor || freeCru(rest) - c.usedCru < spare || !forecastFits(rest)) continue;
      actions.push({ kind: "vacate", nodeId: c.nodeId, reason: `${c.usedCru} of ${c.totalCru} vCPUs used, all ${c.deployments} deployments movable: the other nodes take them (${load} of ${room} vCPUs)` });
      break;
    }
  }
  return actions;
}

/**
 * Why a vacating node gives up (its target goes back up), or undefined while it may go on.
 *
 * @example
 * ```ts
 * vacateFailure(policy, { ...view, deployments: 3, movable: 2 }, 60); // "1 deployment(s) not movable"
 * ```
 */
export function vacateFailure(p: Pick<FarmerPolicy, "vacateTimeoutMinutes">, n: NodeView, vacatingFor: number): string | undefined {
  if (n.rented) return "rented while vacating";
  // A deploy that is not movable landed before the target went down: the node cannot empty.
  if (n.deployments !== undefined && (n.movable ?? 0) < n.deployments) return `${n.deployments - (n.movable ?? 0)} deployment(s) not movable`;
  if (busy(n) && vacatingFor >= p.vacateTimeoutMinutes * 60) return `not empty after ${Math.round(vacatingFor / 60)} min`;
  return undefined;
}
