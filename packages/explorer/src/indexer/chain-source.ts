/**
 * What the indexer reads from the chain, behind one small interface so a test can serve a forked
 * block sequence. `rpcChainSource` reads a real EVM through @zgrid/chain's typed client: grid events
 * (`getGridEvents`), block headers, and the state of a node or contract as of a block (so the index
 * replays exactly, whenever it runs).
 */
import { createPublicClient, encodeAbiParameters, http, keccak256, type PublicClient } from "viem";
import { createLogger } from "@zgrid/log";
import { createContext, getGridEvents, gridContractsAbi, registryAbi, type GridAddresses, type GridContext, type GridEvent } from "@zgrid/chain";

const log = createLogger("explorer.chain-source");

export interface BlockHeader { number: bigint; hash: string; parentHash: string; timestamp: bigint }

/** An event as the indexer stores it: args are JSON-safe (bigint → decimal string). */
export interface IndexedEvent {
  block: bigint;
  blockHash: string;
  /** The block's timestamp when the node's eth_getLogs gives it (EDR, geth ≥ 1.14); else read from the header. */
  blockTime?: number;
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
  /**
   * Extra state as of each event's block for events that do not carry it: node records (one read
   * per node and block) and contract rates (few reads: see `rateReadPlan`). `upTo` is the last
   * block of the range the events were read from (default: the last event's block).
   */
  enrich(events: IndexedEvent[], upTo?: bigint): Promise<void>;
}

/** JSON-safe copy: bigint → string, arrays and objects copied. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

export function toIndexedEvent(e: GridEvent): IndexedEvent {
  const time = (e as { blockTimestamp?: bigint | null }).blockTimestamp;
  return {
    block: e.blockNumber, blockHash: e.blockHash, logIndex: e.logIndex, txHash: e.transactionHash,
    source: e.source, name: e.eventName, args: jsonSafe(e.args) as Record<string, unknown>,
    ...(typeof time === "bigint" ? { blockTime: Number(time) } : {}),
  };
}

/**
 * GridContracts' storage: admin (slot 0), treasury + farmerPct + burnPct + gracePeriod (1),
 * tokenPrice (2), contractCount (3), contracts (4), billings (5); `Billing.rate` is the first word
 * of a contract's Billing struct.
 */
const BILLINGS_SLOT = 5n;
const rateSlot = (id: bigint) => keccak256(encodeAbiParameters([{ type: "uint64" }, { type: "uint256" }], [id, BILLINGS_SLOT]));

const CONTRACT_RATE_EVENTS = new Set(["NodeContractCreated", "NodeContractUpdated", "NameContractCreated", "RentContractCreated", "ContractResourcesReported"]);

/**
 * Which block to read each contract's rate at, with as few distinct blocks as possible. A
 * contract's billing rate is written only by the transactions that emit one of its rate events
 * (create, resources reported; GridContracts.sol), so the rate at the end of an event's block b
 * is the rate at every block up to (next rate event of that contract) − 1, or `upTo` for its last
 * one. Each event's admissible blocks form an interval; a minimum set of blocks stabbing every
 * interval (greedy by right end) serves them all: the same values as one read per event's block,
 * in a handful of `getContracts` calls.
 *
 * @example
 * ```ts
 * rateReadPlan(events, 500n); // Map { 499n => [events…], 500n => [events…] }
 * ```
 */
export function rateReadPlan(events: IndexedEvent[], upTo: bigint): Map<bigint, IndexedEvent[]> {
  const byContract = new Map<string, IndexedEvent[]>();
  for (const e of events) if (CONTRACT_RATE_EVENTS.has(e.name)) {
    const k = String(e.args.contractId);
    byContract.set(k, [...(byContract.get(k) ?? []), e]);
  }
  const intervals: Array<{ lo: bigint; hi: bigint; events: IndexedEvent[] }> = [];
  for (const es of byContract.values()) {
    const blocks = [...new Set(es.map((e) => e.block))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    blocks.forEach((b, i) => {
      const next = blocks[i + 1];
      intervals.push({ lo: b, hi: next === undefined ? (upTo > b ? upTo : b) : next - 1n, events: es.filter((e) => e.block === b) });
    });
  }
  intervals.sort((a, b) => (a.hi < b.hi ? -1 : a.hi > b.hi ? 1 : 0));
  const plan = new Map<bigint, IndexedEvent[]>();
  let point: bigint | undefined;
  for (const iv of intervals) {
    if (point === undefined || point < iv.lo) point = iv.hi; // intervals sorted by hi: point ≤ hi holds
    plan.set(point, [...(plan.get(point) ?? []), ...iv.events]);
  }
  return plan;
}

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
  const nodeAt = async (nodeId: number, block: bigint) => {
    const [n] = await pc.readContract({ address: ctx.addresses.registry, abi: registryAbi, functionName: "getNode", args: [nodeId], blockNumber: block });
    return jsonSafe({
      resources: n.resources, location: n.location, publicConfig: n.publicConfig, secureBoot: n.secureBoot, virtualized: n.virtualized,
      serial: n.serial, createdAt: n.createdAt, updatedAt: n.updatedAt, powerTargetUp: n.powerTargetUp, powerStateUp: n.powerStateUp,
    });
  };
  const viewRate = async (id: bigint, block: bigint) =>
    (await pc.readContract({ address: ctx.addresses.contracts, abi: gridContractsAbi, functionName: "getContract", args: [id], blockNumber: block })).billing.rate;
  // a contract's rate is one storage word (see BILLINGS_SLOT): eth_getStorageAt is several times
  // cheaper than the getContract view; the layout is checked against the view (the largest rate
  // read, until a non-zero one agreed) and the view is used instead if they ever differ
  let layout: "unknown" | "verified" | "differs" = "unknown";
  /** Rates of these contracts as of `block`. */
  const ratesAt = async (ids: bigint[], block: bigint) => {
    const out = new Map<string, string>();
    if (layout !== "differs") {
      const words = await Promise.all(ids.map(async (id) => BigInt((await pc.getStorageAt({ address: ctx.addresses.contracts, slot: rateSlot(id), blockNumber: block })) ?? "0x0")));
      let check = 0;
      words.forEach((w, i) => { if (w > words[check]!) check = i; });
      if (layout === "verified" || (await viewRate(ids[check]!, block)) === words[check]) {
        if (words[check]! > 0n) layout = "verified";
        ids.forEach((id, i) => out.set(id.toString(), words[i]!.toString()));
        return out;
      }
      layout = "differs";
      log.warn({ contract: ids[check]!.toString(), block: block.toString() }, "GridContracts storage layout differs from the indexer's: reading rates through getContract");
    }
    for (const id of ids) out.set(id.toString(), (await viewRate(id, block)).toString());
    return out;
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
    async enrich(events, upTo) {
      // one read per (block, node) and one per planned block for all its contracts, 64 in flight (JSON-RPC batches)
      const jobs: Array<() => Promise<void>> = [];
      const nodes = new Map<string, IndexedEvent[]>();
      for (const e of events) {
        if (e.name !== "NodeStored") continue;
        const k = `${e.block}:${String(e.args.nodeId)}`;
        nodes.set(k, [...(nodes.get(k) ?? []), e]);
      }
      const rates = rateReadPlan(events, upTo ?? events.reduce((m, e) => (e.block > m ? e.block : m), 0n));
      for (const es of nodes.values()) jobs.push(async () => {
        const node = await nodeAt(Number(es[0]!.args.nodeId), es[0]!.block);
        for (const e of es) e.args.node = node;
      });
      for (const [block, es] of rates) jobs.push(async () => {
        const ids = [...new Set(es.map((e) => String(e.args.contractId)))].map((x) => BigInt(x));
        const got = await ratesAt(ids, block);
        for (const e of es) e.args.rate = got.get(String(e.args.contractId));
      });
      for (let i = 0; i < jobs.length; i += 64) await Promise.all(jobs.slice(i, i + 64).map((j) => j()));
    },
  };
}
