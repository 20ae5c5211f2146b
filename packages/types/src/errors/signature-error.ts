import { BaseError } from "./base.ts";

/** A deployment's signatures do not satisfy its signature requirement. */
export class SignatureError extends BaseError {
  override readonly code: string = "SIGNATURE";
}
