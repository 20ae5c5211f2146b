// @zgrid/chain/client — the chain client alone (no dev chain, no Solidity tooling): what SDKs,
// CLIs and node daemons load. See ../../README.md "Entry points".
export * from "../abis.ts";
export * from "../pricing.ts";
export * from "../errors/chain-error.ts";
export * from "../errors/twin-errors.ts";
export * from "../errors/farm-errors.ts";
export * from "../errors/node-errors.ts";
export * from "../errors/contract-errors.ts";
export * from "../errors/billing-errors.ts";
export * from "../errors/governance-errors.ts";
export { toChainError, revertToError } from "../errors/decode-revert.ts";
export * from "./types.ts";
export type { GridClientOptions, GridContext } from "./context.ts";
export { createContext } from "./context.ts";
export * from "./create-grid-client.ts";
export * from "./chain-twin-directory.ts";
export * from "./events.ts";
export type { BillingConfig, SettleResult } from "./billing.ts";
export type { Proposal, ProposalCall, ReleaseRef, NodeVersionReport } from "./governance.ts";
export * from "./governed-calls.ts";
