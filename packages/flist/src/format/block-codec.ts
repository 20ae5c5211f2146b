/**
 * The rfs block codec: key = BLAKE2b-256(plain); data = AES-256-GCM(key, nonce = key[0..12],
 * rawSnappy(plain)); id = BLAKE2b-256(data). Convergent encryption: equal blocks dedup.
 * Decoding checks the id against the bytes (rfs never does) and GCM's tag: a tampered or corrupt
 * block is refused (why the plaintext is not re-hashed: block-decode-core.ts).
 *
 * @example
 * ```ts
 * const { id, key, data } = encodeBlock(plain);
 * decodeBlock(id, key, data); // === plain, or throws BlockIntegrityError
 * ```
 */
import { createCipheriv } from "node:crypto";
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import { snappy, tryDecodeBlock } from "./block-decode-core.ts";
import { blake2b256, toHex } from "./hash.ts";

export interface EncodedBlock {
  id: Uint8Array;
  key: Uint8Array;
  data: Uint8Array;
}


/** Encodes one plaintext block for storage. */
export function encodeBlock(plain: Uint8Array): EncodedBlock {
  const key = blake2b256(plain);
  const compressed = snappy.compress(plain);
  const cipher = createCipheriv("aes-256-gcm", key, key.subarray(0, 12));
  const data = Buffer.concat([cipher.update(compressed), cipher.final(), cipher.getAuthTag()]);
  return { id: blake2b256(data), key, data };
}

/** Checks that `data` hashes to `id` (cheap test a store or cache can run without the key). */
export function checkBlockId(id: Uint8Array, data: Uint8Array): void {
  if (!Buffer.from(blake2b256(data)).equals(id)) {
    throw new BlockIntegrityError(toHex(id), "content hash does not match id");
  }
}

/**
 * Verifies and decodes a stored block. Throws BlockIntegrityError on any mismatch, and when the
 * block claims more than `maxPlain` uncompressed bytes (pass the flist's block size).
 */
export function decodeBlock(id: Uint8Array, key: Uint8Array, data: Uint8Array, maxPlain?: number): Buffer {
  const r = tryDecodeBlock(id, key, data, maxPlain);
  if ("reason" in r) throw new BlockIntegrityError(toHex(id), r.reason, r.cause ? { cause: r.cause } : {});
  return r.plain;
}
