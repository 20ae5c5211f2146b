/**
 * The libp2p peer id of a secp256k1 twin key: base58btc of the identity multihash of the
 * protobuf-encoded public key (KeyType Secp256k1 = 2, 33-byte compressed key) -> "16Uiu2HA…".
 */
import { base58 } from "@scure/base";

/** @example peerIdFromPublicKey(twinKey.publicKey) // "16Uiu2HAm…" */
export function peerIdFromPublicKey(compressedPublicKey: Uint8Array): string {
  if (compressedPublicKey.length !== 33) throw new Error("a secp256k1 peer id needs the 33-byte compressed public key");
  const proto = new Uint8Array([0x08, 0x02, 0x12, 0x21, ...compressedPublicKey]);
  return base58.encode(new Uint8Array([0x00, proto.length, ...proto]));
}
