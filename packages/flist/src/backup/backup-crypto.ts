/**
 * Encryption of disk backup blocks, keyed by the twin (convergent within one twin only):
 * - backupKey = HKDF-SHA-256(twin private key, salt "zgrid-backup-v1", info = twin address);
 * - a block is referenced by `ref` = BLAKE2b-256(plain); its key and nonce are HMAC-SHA-256 of the
 *   backup key and the ref, so equal blocks of one twin encrypt to equal bytes (the hub dedupes
 *   them), while another twin (other backup key) produces unrelated bytes and cannot confirm a guess;
 * - data = AES-256-GCM(snappy(plain)) ‖ tag; id = BLAKE2b-256(data), as the hub requires.
 * The root manifest is sealed with a key derived from the backup key and a random nonce
 * (`nonce ‖ ciphertext ‖ tag`): without the twin key it is noise, and with another twin's key it is
 * refused (BackupKeyError).
 *
 * @example
 * ```ts
 * const bk = backupKeyOf(twinKey);
 * const { id, ref, data } = sealBackupBlock(bk, plain);
 * openBackupBlock(bk, id, ref, data, 512 * 1024); // plain, or throws BlockIntegrityError
 * ```
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import type { TwinKey } from "@zgrid/types";
import { BackupKeyError, BlockIntegrityError } from "../errors/flist-errors.ts";
import { snappy } from "../format/block-decode-core.ts";
import { blake2b256, toHex } from "../format/hash.ts";
import { snappyValidLength } from "../format/snappy-validate.ts";

const TAG = 16;
const NONCE = 12;

/** The twin's backup key (32 bytes). Never leaves the twin's side (the 3bot). */
export function backupKeyOf(key: Pick<TwinKey, "privateKey" | "address">): Buffer {
  return Buffer.from(hkdfSync("sha256", key.privateKey, Buffer.from("zgrid-backup-v1"), Buffer.from(key.address.toLowerCase()), 32));
}

function blockKey(backupKey: Uint8Array, ref: Uint8Array): { key: Buffer; nonce: Buffer } {
  const key = createHmac("sha256", backupKey).update("block-key").update(ref).digest();
  const nonce = createHmac("sha256", backupKey).update("block-nonce").update(ref).digest().subarray(0, NONCE);
  return { key, nonce };
}

export interface SealedBlock {
  /** BLAKE2b-256 of `data`: the hub's id. */
  id: Buffer;
  /** BLAKE2b-256 of the plaintext: with the backup key, it gives the block's key. */
  ref: Buffer;
  data: Buffer;
}

/** Seals one plaintext block for the twin's hub. Deterministic for (backup key, plain). */
export function sealBackupBlock(backupKey: Uint8Array, plain: Uint8Array): SealedBlock {
  const ref = Buffer.from(blake2b256(plain));
  const { key, nonce } = blockKey(backupKey, ref);
  const c = createCipheriv("aes-256-gcm", key, nonce);
  const data = Buffer.concat([c.update(snappy.compress(plain)), c.final(), c.getAuthTag()]);
  return { id: Buffer.from(blake2b256(data)), ref, data };
}

/**
 * Verifies (id = hash of the bytes, GCM tag, size at most `maxPlain`, plaintext hashes to `ref`)
 * and opens a sealed block. Throws BlockIntegrityError naming what failed.
 */
export function openBackupBlock(backupKey: Uint8Array, id: Uint8Array, ref: Uint8Array, data: Uint8Array, maxPlain: number): Buffer {
  const hex = toHex(id);
  if (!Buffer.from(blake2b256(data)).equals(Buffer.from(id))) throw new BlockIntegrityError(hex, "content hash does not match id");
  if (data.length < TAG) throw new BlockIntegrityError(hex, "shorter than its tag");
  const { key, nonce } = blockKey(backupKey, ref);
  let compressed: Buffer;
  try {
    const d = createDecipheriv("aes-256-gcm", key, nonce);
    d.setAuthTag(data.subarray(data.length - TAG));
    compressed = Buffer.concat([d.update(data.subarray(0, data.length - TAG)), d.final()]);
  } catch (cause) {
    throw new BlockIntegrityError(hex, "cannot decrypt with this twin's backup key (wrong twin, or a block of another backup)", { cause });
  }
  if (snappyValidLength(compressed, maxPlain) < 0) throw new BlockIntegrityError(hex, `not a valid compressed block of at most ${maxPlain} bytes`);
  const plain = Buffer.from(snappy.uncompress(compressed));
  if (!Buffer.from(blake2b256(plain)).equals(Buffer.from(ref))) throw new BlockIntegrityError(hex, "plaintext does not hash to its reference");
  return plain;
}

function rootKey(backupKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", backupKey, Buffer.alloc(0), Buffer.from("zgrid-backup-manifest-v1"), 32));
}

/** Seals a root manifest (random nonce): `nonce ‖ ciphertext ‖ tag`, with its hub id. */
export function sealManifest(backupKey: Uint8Array, plain: Uint8Array): { id: Buffer; data: Buffer } {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv("aes-256-gcm", rootKey(backupKey), nonce);
  const data = Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
  return { id: Buffer.from(blake2b256(data)), data };
}

/** Opens a root manifest; BlockIntegrityError when the bytes are not the id's, BackupKeyError when this key cannot open it. */
export function openManifest(backupKey: Uint8Array, id: Uint8Array, data: Uint8Array): Buffer {
  const hex = toHex(id);
  if (!Buffer.from(blake2b256(data)).equals(Buffer.from(id))) throw new BlockIntegrityError(hex, "content hash does not match id");
  if (data.length < NONCE + TAG) throw new BackupKeyError(`block ${hex} is not a backup manifest (too short)`);
  try {
    const d = createDecipheriv("aes-256-gcm", rootKey(backupKey), data.subarray(0, NONCE));
    d.setAuthTag(data.subarray(data.length - TAG));
    return Buffer.concat([d.update(data.subarray(NONCE, data.length - TAG)), d.final()]);
  } catch (cause) {
    throw new BackupKeyError(`cannot open backup manifest ${hex} with this twin's key: it was made by another twin, or it is not a backup manifest`, { cause });
  }
}
