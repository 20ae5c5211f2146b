/**
 * Registration (REFERENCE.md "Node life"): ensure the node's twin (peer id and bus addresses) and
 * the node record in its farm (resources, location, public config) exist and are current; then
 * report uptime on a schedule. Re-registration happens whenever what the node measures changes.
 *
 * @example
 * ```ts
 * const { twinId, nodeId } = await registerNode(chain, { farmId: 1, peerId, addresses, capacity, log });
 * const stop = scheduleUptime(chain, { intervalMs: 40 * 60_000, log });
 * ```
 */
import type { Logger } from "@zgrid/log";
import { BaseError, type Capacity } from "@zgrid/types";

export interface RegistrarChain {
  account: `0x${string}` | undefined;
  twinIdByAccount(account: `0x${string}`): Promise<number>;
  createTwin(p: { peerId: string; relays?: string[] }): Promise<number>;
  updateTwin(p: { peerId: string; relays?: string[] }): Promise<void>;
  getTwin(id: number): Promise<{ peerId: string; relays: string[] }>;
  nodeIdByTwin(twinId: number): Promise<number>;
  registerNode(input: NodeRegistration): Promise<number>;
  updateNode(nodeId: number, input: NodeRegistration): Promise<void>;
  getNode(nodeId: number): Promise<{ farmId: number; resources: { cru: bigint; mru: bigint; sru: bigint; hru: bigint }; publicConfig: { ip4: string; gw4: string; ip6: string; gw6: string; domain: string }; location: { city: string; country: string };
    interfaces?: NodeInterface[]; power?: { state: "up" | "down" } }>;
  reportUptime(uptime: bigint, timestamp?: bigint): Promise<void>;
  setPowerState?(up: boolean): Promise<void>;
}

export interface NodeInterface { name: string; mac: string; ips: string[] }

export interface NodeRegistration {
  farmId: number;
  resources: { cru: bigint; mru: bigint; sru: bigint; hru: bigint };
  location?: { city?: string; country?: string; latitude?: string; longitude?: string };
  publicConfig?: { ip4?: string; gw4?: string; ip6?: string; gw6?: string; domain?: string };
  virtualized?: boolean;
  interfaces?: NodeInterface[];
}

export interface RegisterOptions {
  farmId: number;
  peerId: string;
  /** Bus multiaddrs to publish in the twin record (direct and relay). */
  addresses: string[];
  capacity: Capacity;
  location?: { city?: string; country?: string };
  publicConfig?: { ip4?: string; gw4?: string; ip6?: string; gw6?: string; domain?: string };
  /** The underlay NIC(s) with their MAC: the farm's bot wakes the node by a magic packet to it. */
  interfaces?: NodeInterface[];
  log: Logger;
}

export class RegistrationError extends BaseError {
  override readonly code: string = "REGISTRATION";
}

export async function registerNode(chain: RegistrarChain, o: RegisterOptions): Promise<{ twinId: number; nodeId: number }> {
  if (!chain.account) throw new RegistrationError("the node's chain client has no account");
  let twinId = await chain.twinIdByAccount(chain.account);
  if (twinId === 0) {
    twinId = await chain.createTwin({ peerId: o.peerId, relays: o.addresses });
    o.log.info({ twin: twinId }, "twin created");
  } else {
    const t = await chain.getTwin(twinId);
    if (t.peerId !== o.peerId || t.relays.join(" ") !== o.addresses.join(" ")) {
      await chain.updateTwin({ peerId: o.peerId, relays: o.addresses });
      o.log.info({ twin: twinId }, "twin addresses updated");
    }
  }
  const input: NodeRegistration = {
    farmId: o.farmId,
    resources: { cru: BigInt(o.capacity.cru), mru: BigInt(o.capacity.mru), sru: BigInt(o.capacity.sru), hru: BigInt(o.capacity.hru) },
    location: o.location ?? {},
    publicConfig: o.publicConfig ?? {},
    virtualized: true,
    ...(o.interfaces ? { interfaces: o.interfaces } : {}),
  };
  let nodeId = await chain.nodeIdByTwin(twinId);
  if (nodeId === 0) {
    nodeId = await chain.registerNode(input);
    o.log.info({ node: nodeId, farm: o.farmId }, "node registered");
  } else {
    const n = await chain.getNode(nodeId);
    const same = n.farmId === o.farmId && n.resources.cru === input.resources.cru && n.resources.mru === input.resources.mru
      && n.resources.sru === input.resources.sru && n.resources.hru === input.resources.hru
      && n.publicConfig.ip4 === (o.publicConfig?.ip4 ?? "") && n.publicConfig.domain === (o.publicConfig?.domain ?? "")
      && (o.interfaces === undefined || JSON.stringify(n.interfaces ?? []) === JSON.stringify(o.interfaces));
    if (!same) {
      await chain.updateNode(nodeId, input);
      o.log.info({ node: nodeId }, "node record updated");
    }
    // A node that starts is up: after a standby (woken by its farm's bot) the chain learns it here.
    if (n.power?.state === "down" && chain.setPowerState) {
      await chain.setPowerState(true);
      o.log.info({ node: nodeId }, "power state up reported (woken from standby)");
    }
  }
  return { twinId, nodeId };
}

/** Reports uptime now and every `intervalMs`; returns a function that stops it. */
export function scheduleUptime(chain: Pick<RegistrarChain, "reportUptime">, o: { intervalMs: number; startedAt: number; log: Logger }): () => void {
  const report = () => chain.reportUptime(BigInt(Math.floor((Date.now() - o.startedAt) / 1000)))
    .catch((e: unknown) => o.log.warn({ err: e }, "uptime report failed"));
  void report();
  const timer = setInterval(() => void report(), o.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
