import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestGrid, testHash, type TestGrid } from "../devchain/test-grid.ts";
import { assertRevert } from "../devchain/assert-revert.ts";
import { AuthorizationError } from "../errors/chain-error.ts";
import { ContractError } from "../errors/contract-errors.ts";
import { FarmError } from "../errors/farm-errors.ts";
import { NodeError } from "../errors/node-errors.ts";
import { GIB } from "../pricing.ts";
import { TwinError } from "../errors/twin-errors.ts";
import { devAccount } from "../devchain/dev-accounts.ts";

describe("IT contracts", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid({ publicIps: 3 }); });
  after(async () => { await g?.stop(); });

  test("node contract: hash, metadata, public IPs reserved from the farm and recorded", async () => {
    const userTwin = g.chain.twins[3]!.twinId;
    const id = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(10), metadata: '{"type":"vm"}', publicIps: 2 });
    const c = await g.user.getContract(id);
    assert.equal(c.kind, "node");
    assert.equal(c.state, "created");
    assert.equal(c.twinId, userTwin);
    assert.equal(c.nodeId, g.nodeId1);
    assert.equal(c.deploymentHash, testHash(10));
    assert.equal(c.metadata, '{"type":"vm"}');
    assert.equal(c.publicIpCount, 2);
    assert.equal(c.publicIps.length, 2);
    assert.ok(c.publicIps.every((p) => p.ip.startsWith("185.69.0.") && p.gateway === "185.69.0.1"));
    const farm = await g.user.getFarm(g.farmId);
    for (const p of c.publicIps) assert.equal(farm.publicIps.find((f) => f.ip === p.ip)?.contractId, id);
    assert.deepEqual(await g.user.listNodeContracts(g.nodeId1), [id]);
    assert.deepEqual(await g.node1.getNodeContracts(g.nodeId1), [c]);
    assert.deepEqual(await g.node1.getContracts([id, id]), [c, c]);
    assert.deepEqual(await g.node1.getNodeContracts(g.nodeId2), []);
    assert.deepEqual(await g.user.listTwinContracts(userTwin), [id]);
    assert.equal(await g.user.contractIdByNodeHash(g.nodeId1, testHash(10)), id);

    await assertRevert(g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(10) }), "DuplicateContract", ContractError, `already has live contract ${id}`);
    await assertRevert(g.stranger.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(11), publicIps: 2 }), "NotEnoughFreeIps", FarmError, "has 1 free public IPs, 2 requested");
    await assertRevert(g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(12), metadata: "x".repeat(513) }), "MetadataTooLong", ContractError);
    await g.user.cancelContract(await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(13), metadata: "x".repeat(512) }));
    await assertRevert(g.user.createNodeContract({ nodeId: 99, deploymentHash: testHash(12) }), "NodeNotFound", NodeError);
    const noTwin = g.clientFor(devAccount(18).privateKey);
    await assertRevert(noTwin.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(12) }), "NoTwin", TwinError);
    await assertRevert(noTwin.createNameContract("nameless"), "NoTwin", TwinError);
    await assertRevert(noTwin.createRentContract(g.nodeId1), "NoTwin", TwinError);

    // the same hash on another node is fine
    const other = await g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(10) });
    await g.user.cancelContract(other);

    // update: owner only; the new hash must be free on the node
    await assertRevert(g.stranger.updateNodeContract(id, { deploymentHash: testHash(20) }), "NotContractOwner", AuthorizationError, `does not own contract ${id}`);
    const blocker = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(21) });
    await assertRevert(g.user.updateNodeContract(id, { deploymentHash: testHash(21) }), "DuplicateContract", ContractError);
    await g.user.updateNodeContract(id, { deploymentHash: testHash(20), metadata: "v2" });
    assert.equal((await g.user.getContract(id)).deploymentHash, testHash(20));
    assert.equal(await g.user.contractIdByNodeHash(g.nodeId1, testHash(10)), 0);
    assert.equal(await g.user.contractIdByNodeHash(g.nodeId1, testHash(20)), id);

    // cancel: owner only; state Deleted(CanceledByUser); IPs freed; the hash is free again
    await assertRevert(g.stranger.cancelContract(id), "NotContractOwner", AuthorizationError);
    await g.user.cancelContract(id);
    const deleted = await g.user.getContract(id);
    assert.equal(deleted.state, "deleted");
    assert.equal(deleted.cause, "canceled_by_user");
    assert.ok((await g.user.getFarm(g.farmId)).publicIps.every((p) => p.contractId === 0));
    assert.deepEqual(await g.user.listNodeContracts(g.nodeId1), [blocker]);
    await assertRevert(g.user.cancelContract(id), "ContractNotLive", ContractError, `contract ${id} is deleted`);
    await assertRevert(g.user.updateNodeContract(id, { deploymentHash: testHash(30) }), "ContractNotLive", ContractError);
    await assertRevert(g.user.getContract(9999), "ContractNotFound", ContractError);
    await g.user.cancelContract(blocker);
    const again = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(10) });
    await g.user.cancelContract(again);
  });

  test("the node's twin reports used resources and network usage", async () => {
    const id = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(40) });
    const used = { cru: 2n, mru: 4n * GIB, sru: 50n * GIB, hru: 0n };
    await assertRevert(g.user.reportContractResources(id, used), "NotNodeTwin", AuthorizationError);
    await assertRevert(g.node2.reportContractResources(id, used), "NotNodeTwin", AuthorizationError);
    await assertRevert(g.stranger.reportNetworkUsage(id, 5n), "NotNodeTwin", AuthorizationError);
    await g.node1.reportContractResources(id, used);
    await g.node1.reportNetworkUsage(id, 3n * GIB);
    const c = await g.user.getContract(id);
    assert.deepEqual(c.used, used);
    assert.equal(c.networkBytes, 3n * GIB);
    assert.ok(c.billing.rate > 0n);
    const name = await g.user.createNameContract("reported");
    await assertRevert(g.node1.reportContractResources(name, used), "NotNodeContract", ContractError);
    // batch: one transaction for several contracts; deleted ones are skipped
    const id2 = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(41) });
    const gone = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(42) });
    await g.user.cancelContract(gone);
    const more = { ...used, cru: 4n };
    await assertRevert(g.node2.reportContractResourcesBatch([{ contractId: id, used: more }]), "NotNodeTwin", AuthorizationError);
    await g.node1.reportContractResourcesBatch([{ contractId: id, used: more }, { contractId: id2, used }, { contractId: gone, used }]);
    assert.deepEqual((await g.user.getContract(id)).used, more);
    assert.deepEqual((await g.user.getContract(id2)).used, used);
    assert.equal((await g.user.getContract(gone)).used.cru, 0n);
    await g.user.cancelContract(id2);
    await g.user.cancelContract(id);
    await assertRevert(g.node1.reportContractResources(id, used), "ContractNotLive", ContractError);
    await g.user.cancelContract(name);
  });

  test("name contracts: unique names of 3-64 [a-z0-9-_]", async () => {
    for (const bad of ["ab", "Web", "a b", "x".repeat(65), "web!"]) await assertRevert(g.user.createNameContract(bad), "InvalidName", ContractError);
    const id = await g.user.createNameContract("web");
    const c = await g.user.getContract(id);
    assert.equal(c.kind, "name");
    assert.equal(c.name, "web");
    assert.equal(await g.user.contractIdByName("web"), id);
    const e = await assertRevert(g.stranger.createNameContract("web"), "NameTaken", ContractError, `name 'web' is taken by twin ${g.chain.twins[3]!.twinId}`);
    assert.equal(e.code, "NAME_TAKEN");
    assert.ok(e.hint);
    await assertRevert(g.stranger.updateNodeContract(id, { deploymentHash: testHash(1) }), "NotContractOwner", AuthorizationError);
    await assertRevert(g.user.updateNodeContract(id, { deploymentHash: testHash(1) }), "NotNodeContract", ContractError);
    await g.user.cancelContract(id);
    await g.stranger.cancelContract(await g.stranger.createNameContract("web"));
  });

  test("rent contracts: whole node for one twin; others refused; dedicated farms need rent", async () => {
    const used = await g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(50) });
    await assertRevert(g.user.createRentContract(g.nodeId2), "NodeHasContracts", NodeError);
    await g.user.cancelContract(used);

    const rent = await g.user.createRentContract(g.nodeId2);
    assert.equal((await g.user.getContract(rent)).kind, "rent");
    assert.equal(await g.user.rentContractOf(g.nodeId2), rent);
    await assertRevert(g.stranger.createRentContract(g.nodeId2), "NodeAlreadyRented", ContractError);
    await assertRevert(g.stranger.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(51) }), "NodeRentedByOther", ContractError,
      `node ${g.nodeId2} is rented by twin ${g.chain.twins[3]!.twinId}`);
    const mine = await g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(51), publicIps: 1 });
    // on a rented node the renter pays only the IPs of its node contracts
    await g.node2.reportContractResources(mine, { cru: 4n, mru: 8n * GIB, sru: 0n, hru: 0n });
    const policy = await g.user.getPricingPolicy(1);
    assert.equal((await g.user.getContract(mine)).billing.rate, policy.ipu * 2n * 9600n * GIB);
    await assertRevert(g.user.cancelContract(rent), "RentHasNodeContracts", ContractError);
    await g.user.cancelContract(mine);
    await g.user.cancelContract(rent);
    assert.equal(await g.user.rentContractOf(g.nodeId2), 0);

    await g.farmer.setFarmDedicated(g.farmId, true);
    await assertRevert(g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(52) }), "NodeDedicatedNeedsRent", ContractError, "dedicated");
    const rent2 = await g.user.createRentContract(g.nodeId2);
    const ok = await g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(52) });
    await g.user.cancelContract(ok);
    await g.user.cancelContract(rent2);
    await g.farmer.setFarmDedicated(g.farmId, false);
  });

  test("contract events carry the node id so a node can follow its contracts", async () => {
    const from = (await g.user.getBlockNumber()) + 1n;
    const id = await g.user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(60), publicIps: 1 });
    await g.node1.reportContractResources(id, { cru: 1n, mru: GIB, sru: 0n, hru: 0n });
    await g.user.updateNodeContract(id, { deploymentHash: testHash(61) });
    await g.user.cancelContract(id);
    const names = (await g.user.getEvents({ fromBlock: from })).filter((e) => e.source !== "token").map((e) => e.eventName);
    assert.deepEqual(names, ["FarmIpReserved", "NodeContractCreated", "ContractResourcesReported", "NodeContractUpdated", "ContractBilled", "FarmIpReleased", "ContractDeleted"]);
  });
});
