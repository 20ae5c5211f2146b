import { ChainRevertError } from "./chain-error.ts";

/** Refusals about nodes: registration, uptime, power, deletion, capacity for contracts. */
export class NodeError extends ChainRevertError {}
