/**
 * The decode half of the rfs block codec without any dependency beyond hash-wasm and snappy, so a
 * worker thread that loads it starts fast (decode-worker.ts). Returns a reason instead of
 * throwing; `decodeBlock` (block-codec.ts) turns it into a BlockIntegrityError.
 *
 * @example
 * ```ts
 * const r = tryDecodeBlock(id, key, data);
 * if ("reason" in r) console.error(r.reason); else use(r.plain);
 * ```
 */
import { createDecipheriv } from "node:crypto";
import { createRequire } from "node:module";
import { blake2b256 } from "./hash.ts";
import { snappyDeclaredLength, snappyValidLength } from "./snappy-validate.ts";

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

export const snappy = loadSnappy();
const TAG_LENGTH = 16;

export type DecodeResult = { plain: Buffer } | { reason: string; cause?: unknown };
export type VerifyResult = { bytes: number } | { reason: string; cause?: unknown };

/** The largest plaintext block a verify accepts (the flist reader's bound on the block-size tag). */
export const MAX_PLAIN_BLOCK = 64 * 1024 * 1024;

/**
 * id = BLAKE2b(data), then GCM with key and snappy; the first mismatch is the reason.
 *
 * The plaintext is not hashed again against `key` (= BLAKE2b(plain) when the block was packed):
 * that would add nothing to integrity and was the costliest of the four steps (412 MiB/s per
 * core, the other three together ~300). The signed listing names `id`, so the id check pins the
 * bytes to exactly what the signer packed; GCM's tag then pins the plaintext to those bytes and
 * `key`, so the plaintext is fixed by what the listing signs. A re-hash would only tell whether
 * the packer derived its keys convergently — the packer's own choice, not an attack by a store.
 *
 * `maxPlain` bounds what the Snappy header may claim: the native decoder allocates whatever length
 * the header names before it reads a tag (a 4 GiB claim in a few bytes), so a claim above the
 * flist's block size (default: the largest block size a reader accepts) is refused first.
 */
export function tryDecodeBlock(id: Uint8Array, key: Uint8Array, data: Uint8Array, maxPlain: number = MAX_PLAIN_BLOCK): DecodeResult {
  if (!Buffer.from(blake2b256(data)).equals(id)) return { reason: "content hash does not match id" };
  if (data.length < TAG_LENGTH) return { reason: "block shorter than its GCM tag" };
  let plain: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, key.subarray(0, 12));
    decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH));
    // GCM's final() returns no bytes: the update output is the whole plaintext (no concat copy).
    const compressed = decipher.update(data.subarray(0, data.length - TAG_LENGTH));
    decipher.final();
    const claimed = snappyDeclaredLength(compressed);
    if (claimed < 0 || claimed > maxPlain) return { reason: `decrypted block claims ${claimed < 0 ? "no valid" : claimed} uncompressed bytes (at most ${maxPlain})` };
    const out = snappy.uncompress(compressed);
    plain = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  } catch (cause) {
    return { reason: "cannot decrypt or decompress with the listed key", cause };
  }
  return { plain };
}

/**
 * The checks of `tryDecodeBlock` without producing the plaintext (verify): id = BLAKE2b(data),
 * GCM's tag, and the Snappy stream walked instead of decompressed (snappy-validate.ts: the native
 * decoder accepts exactly the streams it accepts). Resolves with the plaintext length.
 */
export function tryVerifyBlock(id: Uint8Array, key: Uint8Array, data: Uint8Array): VerifyResult {
  if (!Buffer.from(blake2b256(data)).equals(id)) return { reason: "content hash does not match id" };
  if (data.length < TAG_LENGTH) return { reason: "block shorter than its GCM tag" };
  let compressed: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, key.subarray(0, 12));
    decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH));
    compressed = decipher.update(data.subarray(0, data.length - TAG_LENGTH));
    decipher.final();
  } catch (cause) {
    return { reason: "cannot decrypt with the listed key (GCM tag mismatch)", cause };
  }
  const bytes = snappyValidLength(compressed, MAX_PLAIN_BLOCK);
  return bytes < 0 ? { reason: "decrypted block is not a valid Snappy stream (of at most 64 MiB)" } : { bytes };
}
