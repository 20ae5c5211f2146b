/**
 * What the indexer reads from the chain, behind one small interface so a test can serve a forked
 * block sequence. `rpcChainSource` reads a real EVM through @zgrid/chain's typed client: grid events
 * (`getGridEvents`), block headers, and the state of a node or contract as of a block (so the index
 * replays exactly, whenever it runs).
 */
import { createPublicClient, http, type PublicClient } from "viem";
import { createContext, getGridEvents, gridContractsAbi, registryAbi, type GridAddresses, type GridContext, type GridEvent } from "@zgrid/chain";

export interface BlockHeader { number: bigint; hash: string; parentHash: string; timestamp: bigint }

/** An event as the indexer stores it: args are JSON-safe (bigint → decimal string). */
export interface IndexedEvent {
  block: bigint;
  blockHash: string;
  logIndex: number;
  txHash: string;
  source: string;
  name: string;
  args: Record<string, unknown>;
}

export interface ChainSource {
  head(): Promise<bigint>;
  header(block: bigint): Promise<BlockHeader>;
  events(fromBlock: bigint, toBlock: bigint): Promise<IndexedEvent[]>;
  /** Extra state read at each event's block for events that do not carry it (node records, contract rates). */
  enrich(events: IndexedEvent[]): Promise<void>;
}

/** JSON-safe copy: bigint → string, arrays and objects copied. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

export function toIndexedEvent(e: GridEvent): IndexedEvent {
  return {
    block: e.blockNumber, blockHash: e.blockHash, logIndex: e.logIndex, txHash: e.transactionHash,
    source: e.source, name: e.eventName, args: jsonSafe(e.args) as Record<string, unknown>,
  };
}

const CONTRACT_RATE_EVENTS = new Set(["NodeContractCreated", "NodeContractUpdated", "NameContractCreated", "RentContractCreated", "ContractResourcesReported"]);

/**
 * @example
 * ```ts
 * const source = rpcChainSource({ rpcUrl: chain.rpcUrl, addresses: chain.addresses });
 * const events = await source.events(1n, await source.head());
 * ```
 */
export function rpcChainSource(o: { rpcUrl?: string; context?: GridContext; addresses: GridAddresses }): ChainSource {
  // concurrent reads go out as JSON-RPC batches (one HTTP round trip for up to 64 calls)
  const pc = o.context?.publicClient ?? (createPublicClient({ transport: http(o.rpcUrl, { batch: { batchSize: 64, wait: 0 } }) }) as PublicClient);
  const ctx = o.context ?? createContext({ publicClient: pc, addresses: o.addresses });
  const enrichOne = async (e: IndexedEvent) => {
    if (e.name === "NodeStored") {
      const [n] = await pc.readContract({ address: ctx.addresses.registry, abi: registryAbi, functionName: "getNode", args: [Number(e.args.nodeId)], blockNumber: e.block });
      e.args.node = jsonSafe({
        resources: n.resources, location: n.location, publicConfig: n.publicConfig, secureBoot: n.secureBoot, virtualized: n.virtualized,
        serial: n.serial, createdAt: n.createdAt, updatedAt: n.updatedAt, powerTargetUp: n.powerTargetUp, powerStateUp: n.powerStateUp,
      });
    } else if (CONTRACT_RATE_EVENTS.has(e.name)) {
      const c = await pc.readContract({ address: ctx.addresses.contracts, abi: gridContractsAbi, functionName: "getContract", args: [BigInt(String(e.args.contractId))], blockNumber: e.block });
      e.args.rate = c.billing.rate.toString();
    }
  };
  return {
    head: () => pc.getBlockNumber({ cacheTime: 0 }),
    async header(block) {
      const b = await pc.getBlock({ blockNumber: block });
      return { number: b.number, hash: b.hash, parentHash: b.parentHash, timestamp: b.timestamp };
    },
    async events(fromBlock, toBlock) {
      return (await getGridEvents(ctx, { fromBlock, toBlock })).map(toIndexedEvent);
    },
    async enrich(events) {
      for (let i = 0; i < events.length; i += 64) await Promise.all(events.slice(i, i + 64).map(enrichOne));
    },
  };
}
