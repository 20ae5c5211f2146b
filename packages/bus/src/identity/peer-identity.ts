/**
 * A twin's bus identity: its libp2p key and peer id come from the twin's secp256k1 key, so the
 * peer id alone says which chain account is speaking (Noise proves the remote holds that key).
 *
 * @example
 * ```ts
 * const key = twinKeyFromMnemonic(mnemonic);
 * const peerId = peerIdOfTwinKey(key);   // 16Uiu2HA…
 * accountOfPeerId(peerId) === key.address; // true
 * ```
 */
import { privateKeyFromRaw } from "@libp2p/crypto/keys";
import type { PeerId, PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import { addressFromPublicKey, type TwinKey } from "@zgrid/types/core";

/** The libp2p private key of a twin key (secp256k1). */
export function libp2pKeyOfTwinKey(key: Pick<TwinKey, "privateKey">): PrivateKey {
  return privateKeyFromRaw(key.privateKey);
}

/** The peer id of a twin key. */
export function peerIdOfTwinKey(key: Pick<TwinKey, "privateKey">): PeerId {
  return peerIdFromPrivateKey(libp2pKeyOfTwinKey(key));
}

/**
 * The chain account of a peer id, or undefined when the peer id does not embed a secp256k1 key
 * (then it cannot be a twin).
 */
export function accountOfPeerId(peerId: PeerId | string): `0x${string}` | undefined {
  try {
    const id = typeof peerId === "string" ? peerIdFromString(peerId) : peerId;
    if (id.type !== "secp256k1" || !id.publicKey) return undefined;
    return addressFromPublicKey(id.publicKey.raw);
  } catch {
    return undefined;
  }
}

/** The 33-byte compressed public key embedded in a secp256k1 peer id (undefined otherwise). */
export function publicKeyOfPeerId(peerId: PeerId): Uint8Array | undefined {
  return peerId.type === "secp256k1" && peerId.publicKey ? peerId.publicKey.raw : undefined;
}
