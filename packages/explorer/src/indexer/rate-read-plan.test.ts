import assert from "node:assert/strict";
import { test } from "node:test";
import { rateReadPlan, type IndexedEvent } from "./chain-source.ts";

const ev = (block: number, name: string, contractId: number, logIndex = 0): IndexedEvent =>
  ({ block: BigInt(block), blockHash: "0x", logIndex, txHash: "0x", source: "contracts", name, args: { contractId: String(contractId) } });

test("rate reads: each event read at a block inside [its block, the contract's next rate event − 1], as few blocks as possible", () => {
  // 3 contracts created in blocks 1, 2, 3, all reported in block 10; contract 1 again in block 20; a transfer is not read
  const events = [ev(1, "NodeContractCreated", 1), ev(2, "NodeContractCreated", 2), ev(3, "NameContractCreated", 3), ev(4, "Transfer", 9),
    ev(10, "ContractResourcesReported", 1, 0), ev(10, "ContractResourcesReported", 2, 1), ev(10, "ContractResourcesReported", 3, 2), ev(20, "ContractResourcesReported", 1)];
  const plan = rateReadPlan(events, 30n);
  const at = new Map<IndexedEvent, bigint>();
  for (const [block, es] of plan) for (const e of es) at.set(e, block);
  assert.equal(at.size, 7, "every rate event, once; not the transfer");
  assert.equal(plan.size, 3, "creations at 9, the first reports at 19, the last at 30");
  assert.deepEqual([...plan.keys()].sort((a, b) => Number(a - b)), [9n, 19n, 30n]);
  for (const [e, b] of at) {
    const next = events.filter((x) => x.args.contractId === e.args.contractId && x.name !== "Transfer" && x.block > e.block).map((x) => x.block)[0];
    assert.ok(b >= e.block && b <= (next === undefined ? 30n : next - 1n), `event in block ${e.block} read at ${b}`);
  }
  // two events of one contract in one block share the end-of-block value; upTo before the last event is ignored
  const same = rateReadPlan([ev(5, "NodeContractCreated", 4, 0), ev(5, "ContractResourcesReported", 4, 1)], 1n);
  assert.deepEqual([...same.keys()], [5n]);
  assert.equal(same.get(5n)!.length, 2);
});
