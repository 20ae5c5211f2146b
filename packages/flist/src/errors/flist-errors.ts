/**
 * Typed errors of @zgrid/flist. Each has a stable `code`, a short message and a hint.
 *
 * @example
 * ```ts
 * try { openFlist("x.fl"); } catch (e) { if (e instanceof FlistFormatError) console.error(e.hint); }
 * ```
 */
import { BaseError, type BaseErrorOptions } from "@zgrid/types";

/** The .fl file is missing, truncated, not SQLite, or its content breaks the format's rules. */
export class FlistFormatError extends BaseError {
  override readonly code: string = "FLIST_FORMAT";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "the .fl file is damaged or not an flist: fetch or pack it again", ...options });
  }
}

/** No store could deliver a block. */
export class BlockNotFoundError extends BaseError {
  override readonly code: string = "BLOCK_NOT_FOUND";
  constructor(id: string, options: BaseErrorOptions = {}) {
    super(`block ${id} not found in any store`, { hint: "check the flist's routes / --store and that the store holds the blocks", ...options, details: { id, ...options.details } });
  }
}

/** A block's bytes do not hash to its id, or its plaintext does not hash to its key. */
export class BlockIntegrityError extends BaseError {
  override readonly code: string = "BLOCK_INTEGRITY";
  constructor(id: string, reason: string, options: BaseErrorOptions = {}) {
    super(`block ${id} failed verification: ${reason}`, { hint: "the store holds a tampered or corrupt block: re-upload it from a good copy", ...options, details: { id, reason, ...options.details } });
  }
}

/** The flist's signature is missing, malformed, made by an untrusted key, or does not match its content. */
export class SignatureError extends BaseError {
  override readonly code: string = "FLIST_SIGNATURE";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "only use flists signed by a publisher you trust; re-sign with `zgrid flist sign` (or publish it with `zgrid image push`)", ...options });
  }
}

/** A store URL is unknown, unreachable, or refuses a write. */
export class StoreError extends BaseError {
  override readonly code: string = "FLIST_STORE";
}

/** Unpacking would write outside the target, or the target is not usable. */
export class UnpackError extends BaseError {
  override readonly code: string = "FLIST_UNPACK";
}

/** An OCI image (layout, docker-archive, registry) cannot be read or converted. */
export class OciError extends BaseError {
  override readonly code: string = "OCI_IMPORT";
}

/** A FUSE mount could not be set up. */
export class MountError extends BaseError {
  override readonly code: string = "FLIST_MOUNT";
}

/** A disk backup cannot be opened with this key: another twin's backup, or not a backup manifest. */
export class BackupKeyError extends BaseError {
  override readonly code: string = "BACKUP_KEY";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "restore with the key of the twin that made the backup, and pass the manifest id it reported", ...options });
  }
}

/** A disk backup's manifest breaks the format or its limits (size, block count, order), or a source is too large. */
export class BackupFormatError extends BaseError {
  override readonly code: string = "BACKUP_FORMAT";
  constructor(message: string, options: BaseErrorOptions = {}) {
    super(message, { hint: "the manifest is damaged, tampered with, or over this restorer's limits: restore an older backup or raise the limit", ...options });
  }
}
