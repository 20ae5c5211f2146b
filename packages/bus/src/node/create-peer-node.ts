/**
 * The libp2p node under a bus: TCP and WebSocket transports, Noise, Yamux, identify, the circuit
 * relay transport (to reach and be reached through relays) and, when asked, a circuit relay
 * server. Settings are chosen for long-lived control traffic (PLATFORM.md pitfalls): relayed
 * connections carry no data/duration limit, yamux accepts bursts of new streams. The per-message
 * path is trimmed by libp2p-hot-path.ts (fewer yamux window updates, TCP writes, thrown errors).
 *
 * @example
 * ```ts
 * const node = await createPeerNode({ key, listen: ["/ip4/127.0.0.1/tcp/0"], relayServer: true });
 * node.getMultiaddrs();
 * await node.stop();
 * ```
 */
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { circuitRelayServer, circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { identify } from "@libp2p/identify";
import type { ConnectionGater, Libp2p } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import type { TwinKey } from "@zgrid/types";
import { createLibp2p, type ServiceFactoryMap } from "libp2p";
import { libp2pKeyOfTwinKey } from "../identity/peer-identity.ts";
import { lazyWebSockets, listensOnWebSockets } from "./lazy-websockets.ts";
import { coalesceTcpWrites, patchLibp2pHotPath } from "./libp2p-hot-path.ts";

export interface RelayServerOptions {
  /** Peers that may hold a reservation at once. */
  maxReservations?: number;
  /** How long a reservation lasts before the peer must renew it (ms). */
  reservationTtlMs?: number;
}

export interface PeerNodeOptions {
  key: Pick<TwinKey, "privateKey">;
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001`, `/ip4/0.0.0.0/tcp/4002/ws`. */
  listen: string[];
  /** Addresses to announce instead of the listen addresses (public address behind a port map). */
  announce?: string[];
  /** Serve as a circuit relay for other peers. */
  relayServer?: boolean | RelayServerOptions;
  /** Accept/deny hooks (the bus limits unproven inbound connections here). */
  connectionGater?: ConnectionGater;
}

/** Creates and starts the libp2p node. */
export async function createPeerNode(options: PeerNodeOptions): Promise<Libp2p> {
  const relay = options.relayServer === true ? {} : options.relayServer || undefined;
  const services: ServiceFactoryMap<Record<string, unknown>> = { identify: identify() };
  if (relay) {
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: relay.maxReservations ?? 1024,
        reservationTtl: relay.reservationTtlMs ?? 2 * 60 * 60_000,
        // Control traffic is long-lived: no 2 min / 128 KiB cap on relayed connections.
        applyDefaultLimit: false,
      },
      maxInboundHopStreams: 1024,
      maxOutboundStopStreams: 1024,
    });
  }
  // Fewer messages, writes and thrown errors per request (libp2p-hot-path.ts, issue 22).
  patchLibp2pHotPath();
  const node = await createLibp2p({
    privateKey: libp2pKeyOfTwinKey(options.key),
    addresses: {
      listen: options.listen,
      ...(options.announce ? { announce: options.announce } : {}),
    },
    // A peer listening on /ws needs the transport now; others load it on their first /ws dial.
    transports: [tcp(), listensOnWebSockets(options.listen) ? (await import("@libp2p/websockets")).webSockets() : lazyWebSockets(), circuitRelayTransport({ reservationCompletionTimeout: 10_000 })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxEarlyStreams: 256, maxInboundStreams: 1024, maxOutboundStreams: 1024 })],
    connectionManager: { maxConnections: 1024, dialTimeout: 10_000 },
    ...(options.connectionGater ? { connectionGater: options.connectionGater } : {}),
    services,
  });
  node.addEventListener("connection:open", (event) => void coalesceTcpWrites(event.detail));
  return node;
}
