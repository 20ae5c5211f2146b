/**
 * The rfs block codec: key = BLAKE2b-256(plain); data = AES-256-GCM(key, nonce = key[0..12],
 * rawSnappy(plain)); id = BLAKE2b-256(data). Convergent encryption: equal blocks dedup.
 * Decoding re-hashes both ways (rfs never does): a tampered or corrupt block is refused.
 *
 * @example
 * ```ts
 * const { id, key, data } = encodeBlock(plain);
 * decodeBlock(id, key, data); // === plain, or throws BlockIntegrityError
 * ```
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { createRequire } from "node:module";
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import { blake2b256, toHex } from "./hash.ts";

export interface EncodedBlock {
  id: Uint8Array;
  key: Uint8Array;
  data: Uint8Array;
}

interface SnappyCodec {
  compress(b: Uint8Array): Uint8Array;
  uncompress(b: Uint8Array): Uint8Array;
}

// Native snappy (napi prebuilt) when it loads, else the pure-JS snappyjs: same raw format.
function loadSnappy(): SnappyCodec {
  const require = createRequire(import.meta.url);
  try {
    const native = require("snappy") as { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer): Buffer | string };
    return {
      compress: (b) => native.compressSync(Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
      uncompress: (b) => native.uncompressSync(Buffer.from(b.buffer, b.byteOffset, b.byteLength)) as Buffer,
    };
  } catch {
    const js = require("snappyjs") as { compress(b: Uint8Array): Uint8Array; uncompress(b: Uint8Array): Uint8Array };
    return { compress: (b) => js.compress(b), uncompress: (b) => js.uncompress(b) };
  }
}

const snappy = loadSnappy();
const TAG_LENGTH = 16;

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

/** Verifies and decodes a stored block. Throws BlockIntegrityError on any mismatch. */
export function decodeBlock(id: Uint8Array, key: Uint8Array, data: Uint8Array): Buffer {
  checkBlockId(id, data);
  if (data.length < TAG_LENGTH) throw new BlockIntegrityError(toHex(id), "block shorter than its GCM tag");
  let plain: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, key.subarray(0, 12));
    decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH));
    // GCM's final() returns no bytes: the update output is the whole plaintext (no concat copy).
    const compressed = decipher.update(data.subarray(0, data.length - TAG_LENGTH));
    decipher.final();
    const out = snappy.uncompress(compressed);
    plain = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  } catch (cause) {
    throw new BlockIntegrityError(toHex(id), "cannot decrypt or decompress with the listed key", { cause });
  }
  if (!Buffer.from(blake2b256(plain)).equals(key)) {
    throw new BlockIntegrityError(toHex(id), "plaintext hash does not match key");
  }
  return plain;
}
