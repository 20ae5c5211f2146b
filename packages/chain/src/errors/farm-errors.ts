import { ChainRevertError } from "./chain-error.ts";

/** Refusals about farms and their public IP pools. */
export class FarmError extends ChainRevertError {}
