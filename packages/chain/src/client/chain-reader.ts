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

/** Largest JSON-RPC answer read (a listing's biggest call returns a few KiB). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export function createChainReader(o: { rpcUrl: string; addresses: ChainReaderAddresses; timeoutMs?: number }): ChainReader {
  let nextId = 1;
  const call = async (to: `0x${string}`, abi: readonly unknown[], name: string, args: readonly unknown[]): Promise<unknown> => {
    const fn = AbiFunction.fromAbi(abi as never, name as never) as AbiFunction.AbiFunction;
    const data = AbiFunction.encodeData(fn, args as never);
    let body: { result?: `0x${string}`; error?: { message?: string } };
    try {
      const res = await fetch(o.rpcUrl, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: "eth_call", params: [{ to, data }, "latest"] }),
        signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      });
      const text = await res.text();
      if (text.length > MAX_RESPONSE_BYTES) throw new Error(`answer of ${text.length} bytes`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = JSON.parse(text) as typeof body;
    } catch (e) {
      throw new ChainError(`${name}: the chain at ${o.rpcUrl} did not answer: ${(e as Error).message}`, { cause: e, hint: "is the chain running? (`zgrid status` on the local grid)" });
    }
    if (body.error || typeof body.result !== "string") throw new ChainError(`${name} failed: ${body.error?.message ?? "no result"}`, { details: { function: name } });
    // checksummed addresses, as viem's client gives them
    const values = AbiParameters.decode(fn.outputs, body.result, { checksumAddress: true });
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
