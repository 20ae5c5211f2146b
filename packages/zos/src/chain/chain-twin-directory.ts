/**
 * The bus's TwinDirectory backed by chain twin records. A twin record's `relays` list holds every
 * address the twin is reachable on: direct multiaddrs (no `/p2p/` part, e.g. `/ip4/10.1.0.5/tcp/4001`)
 * and relay multiaddrs (ending in `/p2p/<relay peer id>`); this adapter splits them.
 *
 * @example
 * ```ts
 * const directory = chainTwinDirectory(gridClient);
 * const bus = await createBus({ key, twinId, directory });
 * ```
 */
import type { TwinDirectory, TwinRecord } from "@zgrid/bus";
import type { ChainTwin } from "../engine/node-chain.ts";

export function chainTwinDirectory(chain: { getTwin(id: number): Promise<ChainTwin> }): TwinDirectory {
  return {
    async getTwin(id: number): Promise<TwinRecord | undefined> {
      const t = await chain.getTwin(id).catch(() => undefined);
      if (!t || t.id === 0) return undefined;
      return {
        id: t.id,
        account: t.account,
        peerId: t.peerId,
        addrs: t.relays.filter((a) => !a.includes("/p2p/")),
        relays: t.relays.filter((a) => a.includes("/p2p/")),
      };
    },
  };
}
