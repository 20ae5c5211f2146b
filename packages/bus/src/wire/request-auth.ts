/**
 * The authentication block in front of every request body. A request is signed either alone or
 * as one of a batch of requests signed together (requests created in the same event-loop turn):
 *
 *   signature (65) | batchSize (u16 BE) | index (u16 BE) | siblingCount (u8) | siblings (32 each) | body
 *
 * Each request's leaf is `requestDigest(body)`. Alone (batchSize 1, no siblings) the signature is
 * over the leaf itself. In a batch it is over
 * SHA-256("zgrid-bus/1 batch\n" || batchSize || merkleRoot), where the Merkle tree hashes
 * pairs as SHA-256(0x01 || left || right) and an unpaired last node moves up unchanged; the
 * siblings are the request's inclusion proof. Every request therefore still proves on its own
 * that the source twin signed it (and nothing else), while one ECDSA signature and one
 * verification serve a whole burst: ECDSA dominates the bus's CPU cost under load.
 *
 * @example
 * ```ts
 * const leaves = bodies.map(requestDigest);
 * const { root, proofs } = merkleTree(leaves);
 * const auth = encodeRequestAuth(signBatchRoot(key, leaves.length, root), leaves.length, 0, proofs[0]);
 * ```
 */
import { createHash } from "node:crypto";

const BATCH_DOMAIN = new TextEncoder().encode("zgrid-bus/1 batch\n");
const PAIR_TAG = Uint8Array.of(1);
const SIGNATURE_BYTES = 65;
const HEADER_BYTES = SIGNATURE_BYTES + 5;
/** Largest batch: keeps proofs at most 8 hashes (256 bytes). */
export const MAX_BATCH = 256;

export interface RequestAuth {
  signature: Uint8Array;
  batchSize: number;
  index: number;
  siblings: Uint8Array[];
  body: Uint8Array;
}

function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  return createHash("sha256").update(PAIR_TAG).update(left).update(right).digest();
}

/** Root of the leaves and each leaf's proof (siblings bottom-up). */
export function merkleTree(leaves: Uint8Array[]): { root: Uint8Array; proofs: Uint8Array[][] } {
  const proofs: Uint8Array[][] = leaves.map(() => []);
  // positions[i] = index of leaf i's ancestor at the current level
  const positions = leaves.map((_, i) => i);
  let level = leaves;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? hashPair(level[i]!, level[i + 1]!) : level[i]!);
    for (let leaf = 0; leaf < leaves.length; leaf++) {
      const at = positions[leaf]!;
      const sibling = at % 2 === 1 ? at - 1 : at + 1;
      if (sibling < level.length) proofs[leaf]!.push(level[sibling]!);
      positions[leaf] = at >> 1;
    }
    level = next;
  }
  return { root: level[0]!, proofs };
}

/** Recomputes the root from a leaf and its proof; undefined when the proof has the wrong shape. */
export function rootFromProof(leaf: Uint8Array, batchSize: number, index: number, siblings: Uint8Array[]): Uint8Array | undefined {
  if (batchSize < 1 || index >= batchSize) return undefined;
  let hash = leaf;
  let at = index;
  let size = batchSize;
  let used = 0;
  while (size > 1) {
    if (at % 2 === 1) hash = hashPair(siblings[used++] ?? new Uint8Array(32), hash);
    else if (at + 1 < size) hash = hashPair(hash, siblings[used++] ?? new Uint8Array(32));
    at >>= 1;
    size = Math.ceil(size / 2);
  }
  return used === siblings.length ? hash : undefined;
}

/** The digest a batch signature covers. */
export function batchDigest(batchSize: number, root: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(BATCH_DOMAIN.byteLength + 2 + 32);
  bytes.set(BATCH_DOMAIN, 0);
  bytes[BATCH_DOMAIN.byteLength] = batchSize >> 8;
  bytes[BATCH_DOMAIN.byteLength + 1] = batchSize & 0xff;
  bytes.set(root, BATCH_DOMAIN.byteLength + 2);
  return createHash("sha256").update(bytes).digest();
}

/** The bytes that go before the body in a request frame. */
export function encodeRequestAuth(signature: Uint8Array, batchSize = 1, index = 0, siblings: Uint8Array[] = []): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + siblings.length * 32);
  out.set(signature, 0);
  out[65] = batchSize >> 8;
  out[66] = batchSize & 0xff;
  out[67] = index >> 8;
  out[68] = index & 0xff;
  out[69] = siblings.length;
  siblings.forEach((s, i) => out.set(s, HEADER_BYTES + i * 32));
  return out;
}

/** Splits a request frame's bytes into auth and body; a reason string when malformed. */
export function decodeRequestAuth(rest: Uint8Array): RequestAuth | string {
  if (rest.byteLength < HEADER_BYTES) return "request frame too short";
  const batchSize = (rest[65]! << 8) | rest[66]!;
  const index = (rest[67]! << 8) | rest[68]!;
  const count = rest[69]!;
  const bodyStart = HEADER_BYTES + count * 32;
  if (batchSize < 1 || batchSize > MAX_BATCH || index >= batchSize || count > 8) return "bad signature batch header";
  if (rest.byteLength <= bodyStart) return "request frame too short";
  const siblings: Uint8Array[] = [];
  for (let i = 0; i < count; i++) siblings.push(rest.subarray(HEADER_BYTES + i * 32, HEADER_BYTES + (i + 1) * 32));
  return { signature: rest.subarray(0, SIGNATURE_BYTES), batchSize, index, siblings, body: rest.subarray(bodyStart) };
}
