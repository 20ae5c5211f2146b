/**
 * Keeps this peer's reservations on its relays. libp2p reserves on a configured relay once and
 * does not come back after losing it (relay restart, network cut): the peer would stay
 * unreachable. So the bus checks every few seconds that each relay of its twin record appears in
 * its circuit addresses, and when one is missing, dials that relay and listens through it again.
 * A relay that is down at start does not stop the bus from starting.
 *
 * @example
 * ```ts
 * const reservations = keepRelayReservations(node, ["/ip4/1.2.3.4/tcp/4001/p2p/16Uiu2…"], { log });
 * await reservations.firstCheck;
 * reservations.stop();
 * ```
 */
import type { Libp2p } from "@libp2p/interface";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import type { Logger } from "@zgrid/log";

interface ListeningTransports {
  listen(addrs: Multiaddr[]): Promise<void>;
}

/** The relay's peer id: the last `/p2p/<id>` of its address. */
function relayPeerId(relay: string): string | undefined {
  return /\/p2p\/([^/]+)$/.exec(relay)?.[1];
}

export interface RelayReservations {
  /** Settles once every relay was tried once. */
  firstCheck: Promise<void>;
  /** Replaces the relay list (twin record changed); new relays are reserved on the next check. */
  setRelays(relays: string[]): void;
  stop(): void;
}

export function keepRelayReservations(node: Libp2p, initialRelays: string[], options: { log: Logger; intervalMs?: number }): RelayReservations {
  let relays = initialRelays;
  // libp2p 3 has no public "listen on this address now"; its transport manager does it.
  const transports = (node as unknown as { components?: { transportManager?: ListeningTransports } }).components?.transportManager;
  let stopped = false;
  let running: Promise<void> | undefined;

  const reserve = async (relay: string): Promise<void> => {
    const relayId = relayPeerId(relay);
    if (!relayId || !transports) return;
    if (node.getMultiaddrs().some((a) => a.toString().includes(`/p2p/${relayId}/p2p-circuit`))) return;
    try {
      // Dial first: a failed listen would leave a dead listener behind in libp2p.
      await node.dial(multiaddr(relay), { signal: AbortSignal.timeout(10_000) });
      if (stopped) return;
      await transports.listen([multiaddr(`${relay}/p2p-circuit`)]);
      options.log.debug({ relay }, "bus reserved a slot on a relay");
    } catch (error) {
      options.log.debug({ relay, reason: (error as Error).message }, "bus could not reserve on a relay; will retry");
    }
  };
  const check = (): Promise<void> => {
    running ??= Promise.all(relays.map(reserve)).then(() => {
      running = undefined;
    });
    return running;
  };

  if (!transports) options.log.warn("libp2p internals changed: relay reservations cannot be made");
  const firstCheck = relays.length > 0 ? check() : Promise.resolve();
  const timer = setInterval(() => {
    if (!stopped) void check();
  }, options.intervalMs ?? 5_000);
  timer.unref();
  return {
    firstCheck,
    setRelays(next) {
      relays = next;
      if (!stopped) void check();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
