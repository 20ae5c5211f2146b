import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestGrid, testHash, type TestGrid } from "../devchain/test-grid.ts";
import type { GridEvent } from "./events.ts";

describe("events", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid(); });
  after(async () => { await g?.stop(); });

  const key = (e: GridEvent) => `${e.blockNumber}:${e.logIndex}`;
  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cond(), "timed out waiting for events");
  };

  test("a watcher resumes from the last handled block after a restart: nothing missed, nothing repeated", async () => {
    const seen: GridEvent[] = [];
    let handledUpTo = -1n;
    let failOnce = true;
    const w1 = g.user.watchEvents({
      fromBlock: 0n,
      onEvents: (events, toBlock) => {
        // a failing handler gets the same batch again
        if (failOnce && events.length > 0) { failOnce = false; throw new Error("handler failed"); }
        seen.push(...events);
        handledUpTo = toBlock;
      },
      onError: () => {},
    });
    const c1 = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(1) });
    const latest1 = await g.user.getBlockNumber();
    await waitFor(() => handledUpTo >= latest1);
    await w1.stop();

    // while "down": more state changes
    await g.node1.reportContractResources(c1, { cru: 1n, mru: 1n << 30n, sru: 0n, hru: 0n });
    await g.user.cancelContract(c1);
    const name = await g.user.createNameContract("watched");

    const w2 = g.user.watchEvents({ fromBlock: handledUpTo + 1n, onEvents: (events, toBlock) => { seen.push(...events); handledUpTo = toBlock; } });
    const latest2 = await g.user.getBlockNumber();
    await waitFor(() => handledUpTo >= latest2);
    await w2.stop();

    const all = await g.user.getEvents({ fromBlock: 0n });
    assert.deepEqual(seen.map(key), all.map(key));
    assert.equal(new Set(seen.map(key)).size, seen.length);
    const names = seen.map((e) => e.eventName);
    for (const n of ["TwinStored", "FarmStored", "FarmIpAdded", "NodeStored", "NodeContractCreated", "ContractResourcesReported", "ContractDeleted", "NameContractCreated", "Transfer"]) {
      assert.ok(names.includes(n as never), `missing ${n}`);
    }
    const created = seen.find((e) => e.eventName === "NameContractCreated");
    assert.ok(created && created.eventName === "NameContractCreated" && Number(created.args.contractId) === name && created.source === "contracts");
  });
});
