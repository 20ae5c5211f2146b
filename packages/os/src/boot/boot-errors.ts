/**
 * Errors of the boot path. Each one ends the boot with a console line `zgrid-boot: FATAL <code>: …`
 * that says what was wrong and what to do (the machine has no shell to look further).
 *
 * @example
 * ```ts
 * throw new BootParamError("zgrid.farm is missing", { hint: "add zgrid.farm=<farm id> to the kernel line" });
 * ```
 */
import { BaseError } from "@zgrid/types";

/** A kernel-line parameter is missing or malformed. */
export class BootParamError extends BaseError {
  override readonly code: string = "BOOT_PARAM";
}

/** The release could not be fetched, verified or started. */
export class ReleaseError extends BaseError {
  override readonly code: string = "BOOT_RELEASE";
}
