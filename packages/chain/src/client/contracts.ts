/** IT contract calls: node, name and rent contracts; node reports; reads. */
import { parseEventLogs, type Hex } from "viem";
import { gridContractsAbi } from "../abis.ts";
import { read, write, type GridContext } from "./context.ts";
import { toGridContract } from "./contract-view.ts";
import type { GridContract, Resources } from "./types.ts";

export function contractActions(ctx: GridContext) {
  const address = ctx.addresses.contracts;
  const ids = (list: readonly bigint[]) => list.map(Number);
  return {
    /**
     * Creates a node contract for a deployment; `publicIps` IPv4s are reserved from the node's farm.
     * @example const id = await client.createNodeContract({ nodeId: 7, deploymentHash: hash, publicIps: 1 });
     */
    async createNodeContract(p: { nodeId: number; deploymentHash: Hex; metadata?: string; publicIps?: number }): Promise<number> {
      const receipt = await write(ctx, address, gridContractsAbi, "createNodeContract", [p.nodeId, p.deploymentHash, p.metadata ?? "", p.publicIps ?? 0]);
      const [log] = parseEventLogs({ abi: gridContractsAbi, eventName: "NodeContractCreated", logs: receipt.logs });
      return Number(log!.args.contractId);
    },
    /** Points a node contract at a new deployment hash (owner; not during the grace period). */
    async updateNodeContract(contractId: number, p: { deploymentHash: Hex; metadata?: string }): Promise<void> {
      await write(ctx, address, gridContractsAbi, "updateNodeContract", [BigInt(contractId), p.deploymentHash, p.metadata ?? ""]);
    },
    /** Reserves a unique name (3-64 of [a-z0-9-_]) for gateways. */
    async createNameContract(name: string): Promise<number> {
      const receipt = await write(ctx, address, gridContractsAbi, "createNameContract", [name]);
      const [log] = parseEventLogs({ abi: gridContractsAbi, eventName: "NameContractCreated", logs: receipt.logs });
      return Number(log!.args.contractId);
    },
    /** Rents a whole node (50% of its full price). */
    async createRentContract(nodeId: number): Promise<number> {
      const receipt = await write(ctx, address, gridContractsAbi, "createRentContract", [nodeId]);
      const [log] = parseEventLogs({ abi: gridContractsAbi, eventName: "RentContractCreated", logs: receipt.logs });
      return Number(log!.args.contractId);
    },
    /** Cancels a contract (owner only): charges what is owed, frees its IPs. */
    async cancelContract(contractId: number): Promise<void> {
      await write(ctx, address, gridContractsAbi, "cancelContract", [BigInt(contractId)]);
    },
    /** The node's twin reports what a contract uses now (bytes; cru = cores). */
    async reportContractResources(contractId: number, used: Resources): Promise<void> {
      await write(ctx, address, gridContractsAbi, "reportContractResources", [BigInt(contractId), used]);
    },
    /** The node's twin reports many contracts in one transaction (deleted ones are skipped). */
    async reportContractResourcesBatch(reports: { contractId: number; used: Resources }[]): Promise<void> {
      await write(ctx, address, gridContractsAbi, "reportContractResourcesBatch", [reports.map((r) => BigInt(r.contractId)), reports.map((r) => r.used)]);
    },
    /** The node's twin reports network traffic (bytes) since its last report. */
    async reportNetworkUsage(contractId: number, bytes: bigint): Promise<void> {
      await write(ctx, address, gridContractsAbi, "reportNetworkUsage", [BigInt(contractId), bytes]);
    },
    async getContract(contractId: number): Promise<GridContract> {
      return toGridContract(await read(ctx, address, gridContractsAbi, "getContract", [BigInt(contractId)]));
    },
    /** Several contracts in one call. */
    async getContracts(contractIds: number[]): Promise<GridContract[]> {
      return (await read(ctx, address, gridContractsAbi, "getContracts", [contractIds.map(BigInt)])).map(toGridContract);
    },
    /**
     * The live node contracts of a node, in full (what a node resyncs from).
     * @example for (const c of await client.getNodeContracts(nodeId)) console.log(c.id, c.deploymentHash, c.state);
     */
    async getNodeContracts(nodeId: number): Promise<GridContract[]> {
      const list = await read(ctx, address, gridContractsAbi, "listNodeContracts", [nodeId]);
      return list.length === 0 ? [] : (await read(ctx, address, gridContractsAbi, "getContracts", [list])).map(toGridContract);
    },
    /** Ids of the live node contracts on a node. */
    async listNodeContracts(nodeId: number): Promise<number[]> {
      return ids(await read(ctx, address, gridContractsAbi, "listNodeContracts", [nodeId]));
    },
    /** Ids of a twin's live contracts (all kinds). */
    async listTwinContracts(twinId: number): Promise<number[]> {
      return ids(await read(ctx, address, gridContractsAbi, "listTwinContracts", [twinId]));
    },
    /** The live node contract for (node, deployment hash), 0 when none. */
    async contractIdByNodeHash(nodeId: number, deploymentHash: Hex): Promise<number> {
      return Number(await read(ctx, address, gridContractsAbi, "contractIdByNodeHash", [nodeId, deploymentHash]));
    },
    /** The live name contract holding a name, 0 when free. */
    async contractIdByName(name: string): Promise<number> {
      return Number(await read(ctx, address, gridContractsAbi, "contractIdByName", [name]));
    },
    /** The live rent contract of a node, 0 when not rented. */
    async rentContractOf(nodeId: number): Promise<number> {
      return Number(await read(ctx, address, gridContractsAbi, "rentContractOf", [nodeId]));
    },
    async contractCount(): Promise<number> {
      return Number(await read(ctx, address, gridContractsAbi, "contractCount", []));
    },
  };
}
