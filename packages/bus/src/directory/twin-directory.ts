/**
 * How the bus finds twins. The chain's twin records implement it in production (an adapter in the
 * chain package); StaticTwinDirectory serves tests and the local grid.
 *
 * @example
 * ```ts
 * const directory: TwinDirectory = {
 *   async getTwin(id) { return id === 7 ? { id: 7, account: "0x…", peerId: "16Uiu2…", addrs: ["/ip4/127.0.0.1/tcp/4001"], relays: [] } : undefined; },
 * };
 * ```
 */

/** What the bus needs of a twin's chain record. */
export interface TwinRecord {
  id: number;
  /** The twin's chain account (Ethereum address of its secp256k1 key). */
  account: `0x${string}`;
  /** libp2p peer id derived from the same key (`16Uiu2HA…`). */
  peerId: string;
  /** Direct multiaddrs (without `/p2p/<id>`), e.g. `/ip4/10.0.0.5/tcp/4001`. */
  addrs: string[];
  /** Multiaddrs of relays (with `/p2p/<relay id>`) on which the twin holds reservations. */
  relays: string[];
}

export interface TwinDirectory {
  /** The twin's record, or undefined when no such twin exists. */
  getTwin(twinId: number): Promise<TwinRecord | undefined>;
  /**
   * Subscribes to record changes; returns an unsubscribe function. Fire it for created twins
   * too: the bus caches misses for 2 s, and a new twin's first calls should not wait for that.
   */
  onTwinUpdated?(callback: (twinId: number) => void): () => void;
}
