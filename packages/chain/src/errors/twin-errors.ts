import { ChainRevertError } from "./chain-error.ts";

/** Refusals about twins: missing twin, one twin per account. */
export class TwinError extends ChainRevertError {}
