/**
 * The farmerbot's policy (a JSON config file for `zgrid farm bot run --config`), checked with zod
 * so a bad file names the field. Times are in seconds or minutes as named.
 *
 * @example
 * ```ts
 * const p = parseFarmerPolicy({ farmId: 1, minAwakeNodes: 1, idleMinutes: 30 });
 * p.uptimeWakeHours; // 20: every standby node is woken to prove uptime before a day without one
 * ```
 */
import { z } from "zod";
import { BaseError } from "@zgrid/types";
import { energyModelSchema } from "./energy-model.ts";

export const farmerPolicySchema = z.strictObject({
  farmId: z.number().int().min(1),
  /** Keep at least this many nodes awake (spare capacity for the next deploy). */
  minAwakeNodes: z.number().int().min(0).default(1),
  /** …or this share of the farm's nodes, whichever is more. */
  minAwakePercent: z.number().min(0).max(100).default(0),
  /** Wake one more node when the awake nodes' used vCPUs pass this share of theirs. */
  wakeAtUsedPercent: z.number().min(1).max(100).default(80),
  /**
   * Keep at least this share of the farm's vCPUs free on awake nodes (up or waking): a headroom
   * that grows with the farm (one spare node is 12% of 8 nodes but 2% of 50), so deploys rarely
   * wait for a wake. Kept whatever `fastWakeSeconds` says; 0 = none.
   */
  spareCorePercent: z.number().min(0).max(100).default(0),
  /**
   * Keep no spare capacity (the `wakeAtUsedPercent` headroom) while this farm's wakes are this fast:
   * the p90 of the last 20 wake latencies the bot measured (at least 3) is at most this many
   * seconds. A deploy that fits no awake node then waits that long for a demand wake (the node
   * finder offers standby nodes). 0 = always keep the headroom.
   */
  fastWakeSeconds: z.number().min(0).max(3600).default(0),
  /**
   * Predictive wake: wake one node ahead when the farm's used vCPUs, projected this many minutes
   * ahead from their trend (a least-squares slope over `forecastWindowMinutes` of the bot's own
   * passes), would pass `forecastFillPercent` of the awake nodes' vCPUs; and power no node off that
   * the projection needs. Set it to about a wake's duration, so a rising load (a diurnal ramp)
   * finds a node up instead of waiting for a demand wake. 0 = off (only demand wakes).
   */
  forecastMinutes: z.number().min(0).max(240).default(0),
  forecastWindowMinutes: z.number().min(1).max(240).default(30),
  forecastFillPercent: z.number().min(1).max(100).default(90),
  /** Power a node off after it held no workload for this long (never a rented one). */
  idleMinutes: z.number().min(0).max(7 * 24 * 60).default(30),
  /**
   * Consolidation by consent (like the Kubernetes cluster-autoscaler's scale-down): a node whose
   * deployments are all movable (their owners consented to be re-placed) and that uses at most
   * `consolidateBelowPercent` of its vCPUs is vacated when the other awake nodes can take its load:
   * its power target goes down on chain (the farm's signal, a cordon + drain), the owners' 3bots
   * re-place the replicas make-before-break, and the emptied node is powered off. On by default:
   * only deployments whose owners said so are ever moved.
   */
  consolidate: z.boolean().default(true),
  /** Vacate only nodes using at most this share of their vCPUs (scale-down-utilization-threshold). */
  consolidateBelowPercent: z.number().min(0).max(100).default(50),
  /**
   * Moves may fill the other nodes up to this share of their vCPUs, never past the wake threshold
   * (`wakeAtUsedPercent`, or 100 while wakes are fast). 100 (default): the wake threshold alone. In
   * bench/green (all VMs movable, fast wakes) 80 saved less (3.04x vs 3.14x) with half the deploys
   * waiting for a wake (233 vs 516 of 8315; 190 without consolidation).
   */
  consolidateFillPercent: z.number().min(1).max(100).default(100),
  /** A node not emptied this long after it was vacated gets its target back up (and is left alone as long). */
  vacateTimeoutMinutes: z.number().min(1).max(24 * 60).default(30),
  /** Wake a standby node when its last uptime proof on chain is older than this. */
  uptimeWakeHours: z.number().min(0.01).max(23).default(20),
  /** A woken node that is not up after this long gets another magic packet. */
  wakeTimeoutSeconds: z.number().int().min(5).max(3600).default(300),
  /** Seconds between two passes of the reconciler. */
  periodSeconds: z.number().min(0.1).max(3600).default(30),
  /** Where magic packets go: the underlay's broadcast address (UDP/9). */
  wol: z.strictObject({ broadcast: z.string().max(64).default("255.255.255.255"), port: z.number().int().min(1).max(65535).default(9) })
    .default({ broadcast: "255.255.255.255", port: 9 }),
  /** The bot's state file (SIGKILL-safe: written whole, then renamed). */
  stateFile: z.string().startsWith("/").optional(),
  energy: energyModelSchema.default(energyModelSchema.parse({})),
});

export type FarmerPolicy = z.output<typeof farmerPolicySchema>;
export type FarmerPolicyInput = z.input<typeof farmerPolicySchema>;

export class FarmerPolicyError extends BaseError {
  override readonly code: string = "FARMER_POLICY";
}

export function parseFarmerPolicy(input: unknown): FarmerPolicy {
  const r = farmerPolicySchema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new FarmerPolicyError(`invalid farmerbot policy: ${issues.join("; ")}`, { details: { issues }, hint: "fix the policy file (see packages/bot/README.md, farmerbot) and start again" });
  }
  return r.data;
}
