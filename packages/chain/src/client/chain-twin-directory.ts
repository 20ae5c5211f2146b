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
import type { Twin } from "./types.ts";

/** The shape of @zgrid/bus's TwinRecord (structural, so the chain package needs no bus dependency). */
export interface DirectoryTwinRecord {
  id: number;
  account: `0x${string}`;
  peerId: string;
  /** Direct multiaddrs. */
  addrs: string[];
  /** Relay multiaddrs. */
  relays: string[];
}

export function chainTwinDirectory(chain: { getTwin(id: number): Promise<Pick<Twin, "id" | "account" | "peerId" | "relays">> }): { getTwin(id: number): Promise<DirectoryTwinRecord | undefined> } {
  return {
    async getTwin(id: number): Promise<DirectoryTwinRecord | undefined> {
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
