// @zgrid/chain — IT contracts on an EVM chain: Solidity contracts, typed viem client, dev chain. See README.md.
export * from "./client/index.ts";
export * from "./devchain/pass-proposal.ts";
export * from "./devchain/start-dev-chain.ts";
export * from "./devchain/deploy-grid.ts";
export * from "./devchain/dev-accounts.ts";
export * from "./devchain/peer-id.ts";
export { DEV_MNEMONIC, createEdrProvider, type EdrProvider, type Eip1193Provider } from "./devchain/edr-provider.ts";
export { startRpcServer, type RpcServer } from "./devchain/rpc-server.ts";
