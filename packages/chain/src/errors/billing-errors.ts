import { ChainRevertError } from "./chain-error.ts";

/** Refusals about tokens and billing settings. */
export class BillingError extends ChainRevertError {}
