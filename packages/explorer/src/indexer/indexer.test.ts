import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { gridContractsAbi } from "@zgrid/chain";
import { startTestGrid, testHash, type TestGrid } from "@zgrid/chain/testing";
import { BACKENDS, TestDatabases } from "../testing/db-backends.ts";
import { rpcChainSource, type ChainSource } from "./chain-source.ts";
import { Indexer } from "./indexer.ts";

const dbs = new TestDatabases();
let grid: TestGrid;
let source: ChainSource;

before(async () => {
  grid = await startTestGrid();
  source = rpcChainSource({ rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses });
});
after(async () => {
  await grid?.stop();
  await dbs.close();
});

/** The chain-derived rows, for comparing two indexes. */
async function snapshot(indexer: Indexer, db: Awaited<ReturnType<TestDatabases["open"]>>) {
  const out: Record<string, unknown> = { cursor: await indexer.cursor() };
  for (const t of ["twins", "farms", "farm_ips", "nodes", "contracts", "events"]) {
    out[t] = await db.all(`SELECT * FROM ${t} ORDER BY 1, 2`);
  }
  return JSON.parse(JSON.stringify(out, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown[]>;
}

for (const backend of BACKENDS) {
  describe(`indexer on ${backend}`, { concurrency: false }, () => {
    test("catches up with the dev chain: twins, farm, nodes, IPs, contracts, uptime, power", async () => {
      const db = await dbs.open(await dbs.url(backend));
      const indexer = new Indexer({ db, source, maxBlockRange: 7 });
      const c1 = await grid.user.createNodeContract({ nodeId: grid.nodeId1, deploymentHash: testHash(Math.floor(Math.random() * 1e9)), publicIps: 1 });
      await grid.node1.reportUptime(100n, await grid.now());
      await grid.node1.reportContractResources(c1, { cru: 2n, mru: 4n << 30n, sru: 10n << 30n, hru: 0n });
      await grid.farmer.setPowerTarget(grid.nodeId2, false);
      await indexer.syncOnce();
      assert.equal(await indexer.cursor(), await grid.chain.publicClient.getBlockNumber());
      const twins = await db.all<{ id: number }>("SELECT id FROM twins ORDER BY id");
      assert.deepEqual(twins.map((t) => t.id), [1, 2, 3, 4, 5]);
      const [farm] = await db.all<{ name: string }>("SELECT name FROM farms WHERE id = ?", [grid.farmId]);
      assert.equal(farm?.name, "farm-one");
      const [n1] = await db.all<{ city: string; uptime: number; cru: number }>("SELECT city, uptime, cru FROM nodes WHERE id = ?", [grid.nodeId1]);
      assert.deepEqual({ ...n1 }, { city: "Ghent", uptime: 100, cru: 16 });
      const [n2] = await db.all<{ power_target_up: number }>("SELECT power_target_up FROM nodes WHERE id = ?", [grid.nodeId2]);
      assert.equal(n2?.power_target_up, 0);
      const [c] = await db.all<{ state: string; public_ips: number; mru: number; rate: string }>("SELECT state, public_ips, mru, rate FROM contracts WHERE id = ?", [c1]);
      assert.equal(c?.state, "created");
      assert.equal(c?.public_ips, 1);
      assert.equal(c?.mru, 4 * 2 ** 30);
      assert.equal(c?.rate, (await grid.user.getContract(c1)).billing.rate.toString());
      const reserved = await db.all("SELECT ip FROM farm_ips WHERE contract_id = ?", [c1]);
      assert.equal(reserved.length, 1);
      await grid.farmer.setPowerTarget(grid.nodeId2, true);
      await grid.user.cancelContract(c1);
      await indexer.syncOnce();
      const [cancelled] = await db.all<{ state: string; cause: string }>("SELECT state, cause FROM contracts WHERE id = ?", [c1]);
      assert.deepEqual({ ...cancelled }, { state: "deleted", cause: "canceled_by_user" });
      assert.equal((await db.all("SELECT ip FROM farm_ips WHERE contract_id = ?", [c1])).length, 0);
    });

    test("a restart mid-stream (batch failing half-way) loses and repeats nothing", async () => {
      for (let i = 0; i < 4; i++) await grid.user.createNameContract(`n${backend.slice(0, 2)}${Date.now() % 1e6}${i}`);
      const refUrl = await dbs.url(backend);
      const ref = await dbs.open(refUrl);
      const reference = new Indexer({ db: ref, source, maxBlockRange: 5 });
      await reference.syncOnce();
      const url = await dbs.url(backend);
      const db = await dbs.open(url);
      // a source that dies in the middle of the 3rd batch's enrichment: the batch must not be half-stored
      let calls = 0;
      const flaky: ChainSource = { ...source, events: async (f, t) => { if (++calls === 3) throw new Error("killed mid-stream"); return source.events(f, t); } };
      const first = new Indexer({ db, source: flaky, maxBlockRange: 5 });
      await assert.rejects(first.syncOnce(), /killed mid-stream/);
      const partial = await first.cursor();
      assert.ok(partial !== undefined && partial > 0n);
      await db.close();
      const reopened = await dbs.open(url);
      const second = new Indexer({ db: reopened, source, maxBlockRange: 5 });
      assert.equal(await second.cursor(), partial);
      await second.syncOnce();
      await reference.syncOnce();
      const a = await snapshot(second, reopened);
      const b = await snapshot(reference, ref);
      assert.deepEqual(a, b);
      const dupes = await reopened.all<{ n: number }>("SELECT COUNT(*) AS n FROM (SELECT block, log_index FROM events GROUP BY block, log_index HAVING COUNT(*) > 1) d");
      assert.equal(Number(dupes[0]?.n), 0);
    });

    test("a reorg (snapshot/revert on the dev chain, then a different history) rewinds and re-indexes", async () => {
      const db = await dbs.open(await dbs.url(backend));
      const indexer = new Indexer({ db, source });
      await indexer.syncOnce();
      const base = await indexer.cursor();
      const snap = await grid.chain.testClient.snapshot();
      const gone = await grid.user.createNameContract(`gone${backend.slice(0, 2)}${Date.now() % 1e6}`);
      await grid.node1.reportUptime(555n, await grid.now());
      await indexer.syncOnce();
      assert.equal((await db.all("SELECT id FROM contracts WHERE id = ?", [gone])).length, 1);
      await grid.chain.testClient.revert({ id: snap });
      // the other branch: different transactions at the same heights, one block longer
      await grid.chain.testClient.mine({ blocks: 1 });
      const kept = await grid.user.createNameContract(`kept${backend.slice(0, 2)}${Date.now() % 1e6}`);
      await grid.chain.testClient.mine({ blocks: 1 });
      await indexer.syncOnce();
      assert.equal(indexer.status.reorgs, 1);
      assert.ok((await indexer.cursor())! > base!);
      const names = await db.all<{ id: number; name: string }>("SELECT id, name FROM contracts WHERE kind = 'name' AND name LIKE ?", [`%${backend.slice(0, 2)}%`]);
      const row = names.find((r) => Number(r.id) === kept);
      assert.ok(row?.name.startsWith("kept"), `the contract of the new branch is indexed: ${JSON.stringify(names)}`);
      assert.ok(!names.some((r) => r.name.startsWith("gone")), "the contract of the dropped branch is gone");
      const [n1] = await db.all<{ uptime: number }>("SELECT uptime FROM nodes WHERE id = ?", [grid.nodeId1]);
      assert.notEqual(Number(n1?.uptime), 555);
      // the rebuilt index equals a fresh index of the same chain
      const fresh = await dbs.open(await dbs.url(backend));
      const freshIndexer = new Indexer({ db: fresh, source });
      await freshIndexer.syncOnce();
      assert.deepEqual(await snapshot(indexer, db), await snapshot(freshIndexer, fresh));
    });
  });
}

test("every contract event's rate is the rate as of its own block, whatever the batch boundaries (few reads: rateReadPlan)", async () => {
  const ids: number[] = [];
  for (let i = 0; i < 6; i++) ids.push(await grid.user.createNodeContract({ nodeId: grid.nodeId1, deploymentHash: testHash(8_100_000 + Math.floor(Math.random() * 1e6)) }));
  await grid.node1.reportContractResourcesBatch(ids.slice(0, 3).map((contractId) => ({ contractId, used: { cru: 1n, mru: 2n << 30n, sru: 0n, hru: 0n } })));
  await grid.node1.reportContractResources(ids[0]!, { cru: 2n, mru: 4n << 30n, sru: 10n << 30n, hru: 0n });
  await grid.node1.reportContractResourcesBatch(ids.slice(2).map((contractId) => ({ contractId, used: { cru: 1n, mru: 1n << 30n, sru: 0n, hru: 0n } })));
  for (const range of [2000, 3]) {
    const db = await dbs.open(await dbs.url("sqlite"));
    await new Indexer({ db, source, maxBlockRange: range }).syncOnce();
    const rows = await db.all<{ block: number; name: string; args: string }>("SELECT block, name, args FROM events WHERE name IN ('NodeContractCreated', 'NameContractCreated', 'RentContractCreated', 'ContractResourcesReported') ORDER BY block, log_index");
    assert.ok(rows.length >= 15);
    for (const r of rows) {
      const a = JSON.parse(r.args) as { contractId: string; rate: string };
      const [c] = await grid.chain.publicClient.readContract({ address: grid.chain.addresses.contracts, abi: gridContractsAbi, functionName: "getContracts", args: [[BigInt(a.contractId)]], blockNumber: BigInt(r.block) });
      assert.equal(a.rate, c!.billing.rate.toString(), `${r.name} of contract ${a.contractId} in block ${r.block} (batches of ${range})`);
    }
  }
});
