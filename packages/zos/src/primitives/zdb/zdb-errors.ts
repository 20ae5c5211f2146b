/**
 * Errors of the zdb service. `message` is what a Redis client sees after `-` (single line);
 * `code` is stable for programs.
 */
import { BaseError } from "@zgrid/types";

export class ZdbError extends BaseError {
  override readonly code: string = "ZDB";
}
/** The namespace's size limit would be passed. */
export class ZdbNoSpaceError extends ZdbError {
  override readonly code: string = "ZDB_NO_SPACE";
}
/** Wrong or missing password, or a write on a read-only (public, no password) selection. */
export class ZdbAccessError extends ZdbError {
  override readonly code: string = "ZDB_ACCESS";
}
/** A request that breaks 0-db's rules (key size, seq key, unknown command, …). */
export class ZdbRequestError extends ZdbError {
  override readonly code: string = "ZDB_REQUEST";
}
