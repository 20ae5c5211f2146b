import { ChainRevertError } from "./chain-error.ts";

/** Refusals about IT contracts (node, name, rent): creation rules, updates, cancellation. */
export class ContractError extends ChainRevertError {}
