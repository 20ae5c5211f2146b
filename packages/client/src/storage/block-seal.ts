/**
 * Encryption of stored blocks, in the manner of flist blocks (AES-256-GCM with a per-block key
 * from the content, nonce = key[0..12], id = hash of the ciphertext) but keyed by the twin:
 * key = HMAC-SHA-256(storageKey, plaintext), storageKey = HKDF-SHA-256 of the twin's private key.
 * Equal blocks of one twin dedup; nobody without the twin key can tell what a block holds or
 * confirm a guess. Opening re-checks the id and the GCM tag: a tampered block is refused.
 *
 * @example
 * ```ts
 * const sk = storageKeyOf(twinKey.privateKey);
 * const { id, key, data } = sealBlock(sk, plain);
 * openBlock(id, key, data); // plain
 * ```
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from "node:crypto";
import { ClientError } from "../errors/client-errors.ts";

/** A block read back does not match its id or key (corrupt or tampered). */
export class BlockIntegrityError extends ClientError {
  override readonly code: string = "BLOCK_INTEGRITY";
}

const TAG = 16;

/** The twin's storage key (32 bytes), derived from its private key. */
export function storageKeyOf(twinPrivateKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", twinPrivateKey, Buffer.from("zgrid"), Buffer.from("zgrid storage blocks v1"), 32));
}

export function blockId(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

export function sealBlock(storageKey: Uint8Array, plain: Uint8Array): { id: Buffer; key: Buffer; data: Buffer } {
  const key = createHmac("sha256", storageKey).update(plain).digest();
  const c = createCipheriv("aes-256-gcm", key, key.subarray(0, 12));
  const data = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return { id: blockId(data), key, data };
}

export function openBlock(id: Uint8Array, key: Uint8Array, data: Uint8Array): Buffer {
  const hex = Buffer.from(id).toString("hex");
  if (!blockId(data).equals(Buffer.from(id))) throw new BlockIntegrityError(`block ${hex}: content hash does not match its id`);
  if (data.length < TAG) throw new BlockIntegrityError(`block ${hex}: shorter than its tag`);
  try {
    const d = createDecipheriv("aes-256-gcm", key, Buffer.from(key).subarray(0, 12));
    d.setAuthTag(data.subarray(data.length - TAG));
    return Buffer.concat([d.update(data.subarray(0, data.length - TAG)), d.final()]);
  } catch (cause) {
    throw new BlockIntegrityError(`block ${hex}: cannot decrypt with the manifest's key`, { cause });
  }
}
