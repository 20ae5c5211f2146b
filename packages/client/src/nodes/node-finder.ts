/**
 * Finds nodes for a workload. Chain records say what a node is (farm, location, public config,
 * power); the node's own live statistics (`zos.statistics.get` over the bus) say what it can still
 * give, so a dead node or stale capacity on chain is never picked. `list` sorts by free memory;
 * `pick` places by the policy of placement.ts (default `pack`: the fullest awake node that fits, so
 * a farm's bot can power the empty ones off; `placement: "spread"` for the emptiest).
 *
 * @example
 * ```ts
 * const nodes = await grid.nodes.list({ mru: 2 * GiB, country: "BE" });
 * const node = await grid.nodes.pick({ cru: 1, mru: 512 * MiB, sru: 0 }); // throws NoCapacityError
 * const apart = await grid.nodes.pick(need, { placement: "spread" });
 * ```
 */
import type { Bus } from "@zgrid/bus";
import type { GridClient } from "@zgrid/chain";
import type { NodeStatistics } from "@zgrid/types";
import { NoCapacityError, UnknownNodeError } from "../errors/client-errors.ts";
import { formatBytes } from "../format.ts";
import { nodeClient } from "./node-client.ts";
import { placementOrder, type Placement } from "./placement.ts";

export interface Resources { cru: number; mru: number; sru: number; hru: number }

export interface NodeInfo {
  nodeId: number;
  farmId: number;
  twinId: number;
  country: string;
  city: string;
  domain: string;
  /** Answered its statistics just now and its power state is up. */
  up: boolean;
  /** Powered off by its farm's bot (power target or state down on chain): capacity that can be woken. */
  standby: boolean;
  rentedBy: number | undefined;
  /** Resources the chain record declares. */
  total: Resources;
  /** What the node says it can still give (zero when it did not answer). */
  free: Resources;
  freePublicIps: number;
  /** The node has a public IPv6 range (its public config names one): VMs can get a public v6 there. */
  ipv6: boolean;
  deployments: number;
}

export interface NodeFilter extends Partial<Resources> {
  farmId?: number;
  country?: string;
  publicIps?: number;
  /** Only nodes with a public IPv6 range (a VM with `public_ip6`). */
  ipv6?: boolean;
  hasDomain?: boolean;
  /** Include nodes that did not answer (default false). */
  includeDown?: boolean;
  /** Include nodes rented by another twin (default false). */
  includeRented?: boolean;
  /** Include standby nodes (default false; `pick` falls back to them as wakeable capacity). */
  includeStandby?: boolean;
  /** How `pick` chooses among the nodes that fit (default `pack`; see placement.ts). */
  placement?: Placement;
  /**
   * How long to wait for each node's live figures (default 4 s; asked in parallel, so only a silent
   * node costs it). A slow node, e.g. an emulated one, may need more to answer its first request.
   */
  answerWithinMs?: number;
}

/** How long a listing waits for each node's live figures: a silent node must not hold up the list. */
export const LIST_ANSWER_MS = 4_000;
/**
 * How long `get` waits for one node's live figures (a node the user named, or one just woken): its
 * first request opens the bus connection, which a slow node (emulated, busy) takes seconds to accept.
 */
const NAMED_NODE_ANSWER_MS = 20_000;

export class NodeFinder {
  private readonly chain: GridClient;
  private readonly bus: () => Promise<Pick<Bus, "request">>;
  private readonly twinId: number;

  constructor(o: { chain: GridClient; bus: () => Promise<Pick<Bus, "request">>; twinId: number }) {
    this.chain = o.chain;
    this.bus = o.bus;
    this.twinId = o.twinId;
  }

  /**
   * One node's record and live capacity; UnknownNodeError when it does not exist. `answerWithinMs`
   * (default 20 s, NAMED_NODE_ANSWER_MS) bounds the wait for its live figures: one node asked for
   * by name is worth waiting for (a node under emulation took more than a listing's 4 s to accept
   * its first request and was reported "not answering"); a caller looking up many passes less.
   *
   * @example
   * ```ts
   * const n = await finder.get(3);
   * if (!n.up) console.log("node 3 is not answering");
   * ```
   */
  async get(nodeId: number, o: { answerWithinMs?: number } = {}): Promise<NodeInfo> {
    const count = await this.chain.nodeCount();
    if (!Number.isInteger(nodeId) || nodeId < 1 || nodeId > count) throw new UnknownNodeError(nodeId);
    const info = await this.describe(nodeId, o.answerWithinMs ?? NAMED_NODE_ANSWER_MS);
    if (!info) throw new UnknownNodeError(nodeId);
    return info;
  }

  /** Nodes matching the filter, most free memory first. */
  async list(filter: NodeFilter = {}): Promise<NodeInfo[]> {
    const count = await this.chain.nodeCount();
    const all = (await Promise.all(Array.from({ length: count }, (_, i) => this.describe(i + 1, filter.answerWithinMs)))).filter((n): n is NodeInfo => n !== undefined);
    return all.filter((n) => matches(n, filter, this.twinId)).sort((a, b) => b.free.mru - a.free.mru || b.free.cru - a.free.cru || a.nodeId - b.nodeId);
  }

  /**
   * The node for `need` by `filter.placement` (default `pack`: the fullest awake node that fits;
   * a standby node only when no awake one fits), or NoCapacityError naming the closest node ("no node has 8 GiB memory
   * free; the most is 6 GiB on node 3").
   */
  async pick(need: Resources, filter: NodeFilter = {}): Promise<NodeInfo> {
    const candidates = await this.list({ ...filter, cru: undefined, mru: undefined, sru: undefined, hru: undefined });
    const fits = candidates.filter((n) => fitsIn(need, n.free));
    const placed = placementOrder(fits, filter.placement)[0];
    if (placed) return placed;
    // Standby nodes are capacity their farm's bot can wake: offered when no awake node fits
    // (their chain record's resources stand in for the live figures they cannot give while off).
    const wakeable = (await this.list({ ...filter, includeStandby: true, cru: undefined, mru: undefined, sru: undefined, hru: undefined }))
      .filter((n) => n.standby && fitsIn(need, n.free));
    const woken = placementOrder(wakeable, filter.placement)[0];
    if (woken) return woken;
    if (candidates.length === 0) {
      throw new NoCapacityError("no node is up that matches the filter", { details: { filter }, hint: "list nodes with `zgrid nodes ls --all`; start a local grid with `zgrid up`" });
    }
    for (const [key, label] of [["mru", "memory"], ["sru", "SSD"], ["cru", "vCPUs"], ["hru", "HDD"]] as const) {
      if (candidates.some((n) => n.free[key] >= need[key])) continue;
      const best = [...candidates].sort((a, b) => b.free[key] - a.free[key])[0]!;
      const fmt = (v: number) => (key === "cru" ? String(v) : formatBytes(v));
      throw new NoCapacityError(`no node has ${fmt(need[key])} ${label} free; the most is ${fmt(best.free[key])} on node ${best.nodeId}`, {
        details: { need, best: { nodeId: best.nodeId, free: best.free } }, hint: "ask for less, or free capacity (`zgrid vm rm`)",
      });
    }
    throw new NoCapacityError("no single node has all of the resources free at once", { details: { need }, hint: "ask for less, or pick a node with --node" });
  }

  private async describe(nodeId: number, answerWithinMs = LIST_ANSWER_MS): Promise<NodeInfo | undefined> {
    const node = await this.chain.getNode(nodeId).catch(() => undefined);
    if (!node || node.id === 0 || node.twinId === 0) return undefined;
    const off = node.power.state === "down";
    const [rent, farm, stats] = await Promise.all([
      this.chain.rentContractOf(nodeId).catch(() => 0),
      this.chain.getFarm(node.farmId).catch(() => undefined),
      off ? Promise.resolve(undefined) : this.liveStatistics(node.twinId, answerWithinMs),
    ]);
    const rentedBy = rent ? (await this.chain.getContract(rent)).twinId : undefined;
    const total = { cru: Number(node.resources.cru), mru: Number(node.resources.mru), sru: Number(node.resources.sru), hru: Number(node.resources.hru) };
    const standby = node.power.state === "down" || node.power.target === "down";
    // A standby node gives its declared resources less the node's reserve (max(10% RAM, 2 GiB)), once woken.
    const wakeFree = { ...total, mru: Math.max(0, total.mru - Math.max(total.mru / 10, 2 * 1024 ** 3)) };
    return {
      nodeId, farmId: node.farmId, twinId: node.twinId, country: node.location.country, city: node.location.city, domain: node.publicConfig.domain,
      up: stats !== undefined && node.power.state === "up" && node.power.target === "up", standby,
      rentedBy, total, free: stats ? resourcesOf(stats.free) : standby ? wakeFree : { cru: 0, mru: 0, sru: 0, hru: 0 },
      freePublicIps: farm ? farm.publicIps.filter((ip) => ip.contractId === 0).length : 0,
      ipv6: !!node.publicConfig.ip6,
      deployments: stats?.users.deployments ?? 0,
    };
  }

  /** What the node reports, its free capacity after its reserve and CPU overcommit included. */
  private async liveStatistics(nodeTwin: number, timeout: number): Promise<NodeStatistics | undefined> {
    try {
      return await nodeClient(await this.bus(), nodeTwin).statistics({ timeout });
    } catch {
      return undefined;
    }
  }
}

function resourcesOf(c: Resources): Resources {
  return { cru: c.cru, mru: c.mru, sru: c.sru, hru: c.hru };
}

function fitsIn(need: Resources, free: Resources): boolean {
  return need.cru <= free.cru && need.mru <= free.mru && need.sru <= free.sru && need.hru <= free.hru;
}

function matches(n: NodeInfo, f: NodeFilter, me: number): boolean {
  if (!f.includeDown && !n.up && !(f.includeStandby && n.standby)) return false;
  if (!f.includeRented && n.rentedBy !== undefined && n.rentedBy !== me) return false;
  if (f.farmId !== undefined && n.farmId !== f.farmId) return false;
  if (f.country !== undefined && n.country.toLowerCase() !== f.country.toLowerCase()) return false;
  if (f.hasDomain && !n.domain) return false;
  if (f.publicIps && n.freePublicIps < f.publicIps) return false;
  if (f.ipv6 && !n.ipv6) return false;
  return fitsIn({ cru: f.cru ?? 0, mru: f.mru ?? 0, sru: f.sru ?? 0, hru: f.hru ?? 0 }, n.free);
}
