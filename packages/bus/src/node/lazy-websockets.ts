/**
 * The WebSocket transport, loaded on the first WebSocket dial. `@libp2p/websockets` imports
 * `ws` and `node:http`, whose module namespace makes Node 22 load its whole HTTP client (undici)
 * too: ~9 MiB of an idle peer's memory (bench/bus, issue 22: idle RSS goal ≤ 100 MiB) that a peer
 * never dialing a `/ws` address does not need. A peer that *listens* on `/ws` or `/wss` loads the
 * real transport at start (createPeerNode); this stand-in only dials, so it claims no listen
 * address.
 *
 * @example
 * ```ts
 * createLibp2p({ transports: [tcp(), listensOnWebSockets(listen) ? webSockets() : lazyWebSockets()] });
 * ```
 */
import { serviceCapabilities, transportSymbol, type Transport } from "@libp2p/interface";
import type { webSockets } from "@libp2p/websockets";
import type { Multiaddr } from "@multiformats/multiaddr";

type WebSocketsComponents = Parameters<ReturnType<typeof webSockets>>[0];
type TransportFactory = (components: WebSocketsComponents) => Transport;

/** True when one of these listen addresses is a WebSocket one (the real transport is needed at start). */
export function listensOnWebSockets(listen: string[]): boolean {
  return listen.some((a) => /\/wss?(\/|$)|\/tls\/ws(\/|$)/.test(a));
}

/** A WebSocket address this transport dials (`…/tcp/<port>/ws|wss[/p2p/…]`, not a relay circuit). */
function isWebSocketAddr(ma: Multiaddr): boolean {
  const names = ma.getComponents().map((c) => c.name);
  return !names.includes("p2p-circuit") && (names.includes("ws") || names.includes("wss"));
}

/** A transport factory that dials WebSocket addresses, importing @libp2p/websockets on first use. */
export function lazyWebSockets(): TransportFactory {
  return (components) => {
    let real: Promise<Transport> | undefined;
    const load = (): Promise<Transport> => (real ??= import("@libp2p/websockets").then((m) => m.webSockets()(components)));
    const dialable = (addrs: Multiaddr[]): Multiaddr[] => addrs.filter(isWebSocketAddr);
    const transport: Transport = {
      [transportSymbol]: true,
      [Symbol.toStringTag]: "@libp2p/websockets",
      async dial(ma, options) {
        return (await load()).dial(ma, options);
      },
      createListener() {
        throw new Error("the lazy WebSocket transport does not listen: createPeerNode loads the real one for /ws listen addresses");
      },
      listenFilter: () => [],
      dialFilter: dialable,
    };
    return Object.assign(transport, { [serviceCapabilities]: ["@libp2p/transport"] });
  };
}
