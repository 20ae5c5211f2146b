/**
 * The farm-day's SIMULATED nodes and tenants (labelled so: no zosd, no VM, no real 3bot runs here):
 * a node's VMs, and the SIMULATED 3bots of the tenants who marked their VMs movable (consent: the
 * farm may ask for a replica to be re-placed). As a real 3bot does with a movable replica of its
 * 3bot service, every `periodSeconds` each such VM on a node whose power target is down on chain
 * (the farmerbot vacates the node: read through the grid client, as a 3bot would) is re-placed
 * make-before-break with the SDK's placement among the up nodes whose target is up (a move never
 * wakes a node; when nothing fits the VM stays and is tried again next round). The new copy holds
 * its vCPUs on the new node for `moveSeconds` (VM boot + health check) before the old copy is
 * removed: both count as reserved meanwhile (the energy is honest), only one as the tenant's work.
 * The VM keeps its remaining lifetime.
 *
 * @example
 * ```ts
 * const bots = simulated3bots({ nodes, chain: farmer, place: (vm, among) => placementOrder(fit(among, vm), "pack")[0]?.node, moveSeconds: 120, periodSeconds: 60 });
 * await bots.step(now); // completes the moves that are ready, starts new ones once a period
 * bots.moves;          // VMs moved so far
 * ```
 */
import type { FarmerChain } from "@zgrid/bot";
import type { GridClient } from "@zgrid/chain";

export interface SimVm {
  cores: number;
  endsAt: number;
  /** Its tenant consented to a re-placement (the deployment is marked movable). */
  movable: boolean;
  /** A move's new copy, booting until then: reserved on its node, not yet the tenant's VM. */
  readyAt?: number;
  /** The copy a booting new copy replaces (removed once the new one is ready). */
  replaces?: { node: SimNode; vm: SimVm };
  /** This (old) copy has a new one booting elsewhere. */
  moving?: boolean;
}

/** What a simulated node reports of itself (zos.system.power_durations on a real node): exact, per step. */
export interface SimDurations { onSeconds: number; offSeconds: number; reservedCoreSeconds: number; wakes: number; offs: number }
export interface SimNode { id: number; twinId: number; mac: string; client: GridClient; on: boolean; bootsAt?: number; vms: SimVm[]; lastUptime: number; bootedAt: number; own: SimDurations }

export const usedCores = (n: SimNode) => n.vms.reduce((s, v) => s + v.cores, 0);

/**
 * The chain's power targets as the tenants and the node finder read them, once per step at most
 * per node (a read is a call, not a transaction: it changes nothing the bot sees).
 *
 * @example
 * ```ts
 * const targets = chainTargets(farmer);
 * targets.clear();                    // a new step
 * await targets.down(node);           // true while the farmerbot vacates (or powers off) it
 * ```
 */
export function chainTargets(chain: Pick<FarmerChain, "getNode">) {
  const seen = new Map<number, boolean>();
  return {
    clear: () => seen.clear(),
    async down(n: SimNode): Promise<boolean> {
      if (!seen.has(n.id)) seen.set(n.id, (await chain.getNode(n.id)).power.target === "down");
      return seen.get(n.id)!;
    },
  };
}

export interface Simulated3botOptions {
  nodes: SimNode[];
  targets: ReturnType<typeof chainTargets>;
  /** The SDK's pick (pack) of a node for `vm` among `among` (the nodes it fits are its business). */
  place: (vm: SimVm, among: SimNode[]) => SimNode | undefined;
  moveSeconds: number;
  periodSeconds: number;
}

/** SIMULATED 3bots: re-place movable VMs off target-down nodes, make-before-break. */
export function simulated3bots(o: Simulated3botOptions) {
  let nextRound = -Infinity;
  const state = { moves: 0 };
  return {
    get moves() { return state.moves; },
    async step(now: number): Promise<void> {
      // Health check passed: the old copy goes (its node may now be empty).
      for (const n of o.nodes) {
        for (const v of n.vms.filter((x) => x.readyAt !== undefined && x.readyAt <= now)) {
          const old = v.replaces!;
          old.node.vms = old.node.vms.filter((x) => x !== old.vm);
          delete v.readyAt; delete v.replaces;
        }
      }
      if (now < nextRound) return;
      nextRound = now + o.periodSeconds;
      const movable = (n: SimNode) => n.vms.filter((v) => v.movable && !v.moving && v.readyAt === undefined);
      const sources: SimNode[] = [];
      for (const n of o.nodes) if (n.on && movable(n).length && (await o.targets.down(n))) sources.push(n);
      if (!sources.length) return;
      const receivers: SimNode[] = [];
      for (const n of o.nodes) if (n.on && !sources.includes(n) && !(await o.targets.down(n))) receivers.push(n);
      for (const from of sources) {
        for (const vm of movable(from)) {
          const to = o.place(vm, receivers);
          if (!to) continue; // nothing fits now: asked again next round
          to.vms.push({ cores: vm.cores, endsAt: vm.endsAt, movable: true, readyAt: now + o.moveSeconds, replaces: { node: from, vm } });
          vm.moving = true;
          state.moves++;
        }
      }
    },
  };
}
