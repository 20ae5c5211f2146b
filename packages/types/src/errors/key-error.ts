import { BaseError } from "./base.ts";

/** A key, mnemonic or signature could not be used. */
export class KeyError extends BaseError {
  override readonly code: string = "KEY";
}
