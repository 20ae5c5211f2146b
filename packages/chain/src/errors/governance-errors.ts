import { ChainRevertError } from "./chain-error.ts";

/** Refusals about Zero-OS version proposals and votes. */
export class GovernanceError extends ChainRevertError {}
