// @zgrid/chain/reader — the light read-only chain client (fetch + ox, no viem): what read commands
// load (`zgrid vm ls`). See ../README.md "Entry points".
export { createChainReader, type ChainReader, type ChainReaderAddresses } from "./client/chain-reader.ts";
export { jsonRpcCall, nativeBalance, type JsonRpcOptions } from "./client/json-rpc.ts";
export { chainTwinDirectory, type DirectoryTwinRecord } from "./client/chain-twin-directory.ts";
export type { GridContract, Node, Twin } from "./client/types.ts";
export { RATE_DEN } from "./pricing.ts";
