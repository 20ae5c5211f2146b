/**
 * The light chain reader: the read calls a listing needs (twins, nodes, contracts), as plain
 * JSON-RPC `eth_call`s over `fetch`, encoded and decoded with ox (which viem itself is built on).
 * It loads a few dozen modules where viem's client loads hundreds, so a read command
 * (`zgrid vm ls`) starts in a fraction of the time (issue 14, bench/cli/startup.ts). The records
 * are the same as the full client's (same converters, contract-view.ts); chain-reader.test.ts
 * compares the two on a dev chain.
 *
 * @example
 * ```ts
 * const chain = createChainReader({ rpcUrl: "http://127.0.0.1:8545", addresses });
 * const twinId = await chain.twinIdByAccount("0xabc…");
 * for (const id of await chain.listTwinContracts(twinId)) console.log(await chain.getContract(id));
 * ```
 */
import * as AbiFunction from "ox/AbiFunction";
import * as AbiParameters from "ox/AbiParameters";
import { ChainError } from "../errors/chain-error.ts";
import { gridContractsAbi } from "../generated/GridContracts.ts";
import { registryAbi } from "../generated/Registry.ts";
import { jsonRpcCall } from "./json-rpc.ts";
import { toGridContract, toNode, type ContractView, type NodeView } from "./contract-view.ts";
import type { GridContract, Node, Twin } from "./types.ts";

/** What the reader needs of a grid's addresses (GridAddresses fits). */
export interface ChainReaderAddresses {
  registry: `0x${string}`;
  contracts: `0x${string}`;
}

export interface ChainReader {
  twinIdByAccount(account: `0x${string}`): Promise<number>;
  getTwin(id: number): Promise<Twin>;
  getNode(nodeId: number): Promise<Node>;
  getContract(contractId: number): Promise<GridContract>;
  listTwinContracts(twinId: number): Promise<number[]>;
}

export function createChainReader(o: { rpcUrl: string; addresses: ChainReaderAddresses; timeoutMs?: number }): ChainReader {
  const call = async (to: `0x${string}`, abi: readonly unknown[], name: string, args: readonly unknown[]): Promise<unknown> => {
    const fn = AbiFunction.fromAbi(abi as never, name as never) as AbiFunction.AbiFunction;
    const data = AbiFunction.encodeData(fn, args as never);
    let result: unknown;
    try {
      result = await jsonRpcCall({ rpcUrl: o.rpcUrl, method: "eth_call", params: [{ to, data }, "latest"], ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
    } catch (e) {
      // the same words, named after the contract function: "getNode: the chain at … did not answer", "getNode failed: …"
      const err = e as ChainError;
      throw new ChainError(err.shortMessage.replace(/^eth_call/, name), { cause: e, details: { function: name }, ...(err.hint ? { hint: "is the chain running? (`zgrid status` on the local grid)" } : {}) });
    }
    if (typeof result !== "string") throw new ChainError(`${name} failed: no result`, { details: { function: name } });
    // checksummed addresses, as viem's client gives them
    const values = AbiParameters.decode(fn.outputs, result as `0x${string}`, { checksumAddress: true });
    return values.length === 1 ? values[0] : values;
  };
  const { registry, contracts } = o.addresses;
  return {
    async twinIdByAccount(account) {
      return Number(await call(registry, registryAbi, "twinIdByAccount", [account]));
    },
    async getTwin(id) {
      const t = (await call(registry, registryAbi, "getTwin", [id])) as Twin;
      return { id: t.id, account: t.account, peerId: t.peerId, relays: [...t.relays] };
    },
    async getNode(nodeId) {
      return toNode((await call(registry, registryAbi, "getNode", [nodeId])) as NodeView);
    },
    async getContract(contractId) {
      return toGridContract((await call(contracts, gridContractsAbi, "getContract", [BigInt(contractId)])) as ContractView);
    },
    async listTwinContracts(twinId) {
      return ((await call(contracts, gridContractsAbi, "listTwinContracts", [twinId])) as readonly bigint[]).map(Number);
    },
  };
}
