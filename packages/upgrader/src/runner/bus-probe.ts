/**
 * "Answers on the bus": a throwaway libp2p peer dials the node's announced addresses; the Noise
 * handshake proves the peer there holds the node's key (its peer id).
 *
 * @example
 * ```ts
 * await probeBus("16Uiu2HA…", ["/ip4/10.1.0.2/tcp/4100"], 5_000); // throws when nobody answers
 * ```
 */
import { randomBytes } from "node:crypto";
import { multiaddr } from "@multiformats/multiaddr";
import { createPeerNode } from "@zgrid/bus";
import { twinKeyFromPrivateKey } from "@zgrid/types";

export async function probeBus(peerId: string, addresses: string[], timeoutMs: number): Promise<void> {
  const node = await createPeerNode({ key: twinKeyFromPrivateKey(randomBytes(32)), listen: [] });
  try {
    let last: unknown;
    for (const a of addresses.filter((x) => !x.includes("/p2p-circuit"))) {
      try {
        await node.dial(multiaddr(`${a.replace(/\/p2p\/[^/]+$/, "")}/p2p/${peerId}`), { signal: AbortSignal.timeout(timeoutMs) });
        return;
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`the node's bus (${peerId}) does not answer on ${addresses.join(", ") || "no address"}: ${last instanceof Error ? last.message : String(last)}`);
  } finally {
    await node.stop();
  }
}
