/**
 * Real bus peers standing in for the nodes' daemons in explorer tests: each dev-chain node twin gets
 * a libp2p bus (its chain key) that answers `zos.statistics.get` and `zos.system.version` the way
 * zosd does; `stop` makes that node go silent. Also the explorer's own twin bus.
 */
import { createBus, peerIdOfTwinKey, StaticTwinDirectory, type Bus } from "@zgrid/bus";
import type { DevChain } from "@zgrid/chain";
import { twinKeyFromPrivateKey } from "@zgrid/types";

const GIB = 2 ** 30;

export class NodePeers {
  readonly directory = new StaticTwinDirectory();
  readonly buses = new Map<number, Bus>();
  readonly used = new Map<number, { cru: number; mru: number; sru: number; hru: number }>();
  readonly #chain: DevChain;

  constructor(chain: DevChain) {
    this.#chain = chain;
  }

  /** Starts the bus of dev twin `twinId` (1-based); `node` makes it answer like a zos node. */
  async start(twinId: number, node: boolean): Promise<Bus> {
    const t = this.#chain.twins.find((x) => x.twinId === twinId);
    if (!t) throw new Error(`no dev twin ${twinId}`);
    const key = twinKeyFromPrivateKey(t.privateKey);
    this.directory.set({ id: twinId, account: key.address, peerId: peerIdOfTwinKey(key).toString(), addrs: [], relays: [] });
    const bus = await createBus({ key, twinId, directory: this.directory, listen: ["/ip4/127.0.0.1/tcp/0"] });
    this.directory.set({ id: twinId, account: key.address, peerId: peerIdOfTwinKey(key).toString(), addrs: bus.addresses(), relays: [] });
    if (node) {
      bus.handle("zos.statistics.get", () => ({
        total: { cru: 16, mru: 64 * GIB, sru: 1024 * GIB, hru: 4096 * GIB },
        used: this.used.get(twinId) ?? { cru: 0, mru: 0, sru: 0, hru: 0 },
        system: { cru: 0, mru: 4 * GIB, sru: 0, hru: 0 },
        users: { deployments: this.used.has(twinId) ? 1 : 0, workloads: this.used.has(twinId) ? 2 : 0 },
      }));
      bus.handle("zos.system.version", () => ({ zos: "0.1.0-test", zinit: "n/a" }));
    }
    this.buses.set(twinId, bus);
    return bus;
  }

  /** The node stops answering (its daemon died). */
  async stop(twinId: number): Promise<void> {
    await this.buses.get(twinId)?.stop();
    this.buses.delete(twinId);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.buses.values()].map((b) => b.stop()));
    this.buses.clear();
  }
}
