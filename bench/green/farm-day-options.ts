/**
 * The farm-day simulation's options, default policies and result (farm-day.ts runs it; run.ts
 * runs the matrix).
 *
 * @example
 * ```ts
 * const r: FarmDayResult = await simulateFarmDay({ nodes: 24, hours: 24, utilisation: 0.2, seed: 7, coresPerNode: 32, vmHours: 2, swing: 0.8,
 *   bootSeconds: [60, 180], stepSeconds: 60, policy: FARM_DAY_POLICY, movable: 0.5 });
 * ```
 */
import type { FarmerPolicyInput } from "@zgrid/bot";
import type { Placement } from "@zgrid/client";

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
  placement?: Placement | "clairvoyant";
  /** The share of VMs whose tenants consented to be re-placed (drawn per VM from the seed's trace; default 0). */
  movable?: number;
  /** A move's new copy holds its vCPUs this long before the old one goes (VM boot + health check; default 120). */
  moveSeconds?: number;
  /** SIM-ONLY experiment, not the node finder's behaviour: a movable deploy prefers nodes holding only
   *  movable VMs, a pinned one nodes already pinned (the SDK's pick within, any fitting node else). */
  consentAffinity?: boolean }

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
  /** VMs (at 00:00 and arriving) and how many of them were movable; VMs the SIMULATED 3bots moved, per VM. */
  vms: number; movableVms: number; moves: number; movesPerVm: number;
  /** Nodes the farmerbot vacated, and vacatings it gave up (target back up). */
  vacates: number; vacateGiveUps: number;
}
