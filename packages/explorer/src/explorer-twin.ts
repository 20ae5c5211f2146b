/**
 * The explorer's own twin on the bus: its chain account gets a twin record when it has none (it
 * pays the gas), and a pure-client bus (it dials nodes, nobody dials it) resolves nodes through
 * their chain twin records (direct addresses and relays, as zosd publishes them).
 *
 * @example
 * ```ts
 * const twin = await startExplorerTwin({ rpcUrl, addresses, privateKey });
 * const explorer = await startExplorer({ rpcUrl, addresses, bus: twin.bus });
 * await twin.bus.stop();
 * ```
 */
import { createBus, peerIdOfTwinKey, type Bus, type TwinDirectory } from "@zgrid/bus";
import { createGridClient, type GridAddresses, type GridClient } from "@zgrid/chain";
import { twinKeyFromPrivateKey } from "@zgrid/types";

/** A bus directory over chain twin records: `relays` holds direct multiaddrs and relay circuits. */
export function chainDirectory(chain: Pick<GridClient, "getTwin">): TwinDirectory {
  return {
    async getTwin(id) {
      const t = await chain.getTwin(id).catch(() => undefined);
      if (!t || t.id === 0) return undefined;
      return { id: t.id, account: t.account, peerId: t.peerId, addrs: t.relays.filter((a) => !a.includes("/p2p/")), relays: t.relays.filter((a) => a.includes("/p2p/")) };
    },
  };
}

export async function startExplorerTwin(o: { rpcUrl: string; addresses: GridAddresses; privateKey: `0x${string}` }): Promise<{ twinId: number; bus: Bus }> {
  const key = twinKeyFromPrivateKey(o.privateKey);
  const chain = createGridClient({ rpcUrl: o.rpcUrl, addresses: o.addresses, account: o.privateKey });
  let twinId = await chain.twinIdByAccount(key.address);
  if (twinId === 0) twinId = await chain.createTwin({ peerId: peerIdOfTwinKey(key).toString(), relays: [] });
  const bus = await createBus({ key, twinId, directory: chainDirectory(chain), listen: [] });
  return { twinId, bus };
}
