import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestGrid, testHash, NODE_RESOURCES, type TestGrid } from "../devchain/test-grid.ts";
import { assertRevert } from "../devchain/assert-revert.ts";
import { devAccount } from "../devchain/dev-accounts.ts";
import { AuthorizationError } from "../errors/chain-error.ts";
import { NodeError } from "../errors/node-errors.ts";
import { FarmError } from "../errors/farm-errors.ts";
import { ContractError } from "../errors/contract-errors.ts";
import { GIB } from "../pricing.ts";

describe("nodes", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid(); });
  after(async () => { await g?.stop(); });

  test("a node registers with its own twin, with resources, location, public config and interfaces", async () => {
    const n = g.clientFor(devAccount(8).privateKey);
    await n.createTwin({ peerId: "node-peer" });
    await assertRevert(n.registerNode({ farmId: 42, resources: NODE_RESOURCES }), "FarmNotFound", FarmError);
    const weightBefore = (await n.getFarm(g.farmId)).weightMilli;
    const id = await n.registerNode({
      farmId: g.farmId, resources: { cru: 4n, mru: 8n * GIB, sru: 100n * GIB, hru: 0n },
      location: { city: "Cairo", country: "EG", latitude: "30.0", longitude: "31.2" },
      publicConfig: { ip4: "185.1.1.2/24", gw4: "185.1.1.1", domain: "gw.example.com" },
      interfaces: [{ name: "zos", mac: "00:11:22:33:44:55", ips: ["10.0.0.2", "fd00::2"] }],
      secureBoot: true, virtualized: false, serial: "SN1",
    });
    const node = await n.getNode(id);
    assert.equal(node.twinId, await n.twinIdByAccount(devAccount(8).address));
    assert.equal(node.location.city, "Cairo");
    assert.equal(node.publicConfig.domain, "gw.example.com");
    assert.deepEqual(node.interfaces, [{ name: "zos", mac: "00:11:22:33:44:55", ips: ["10.0.0.2", "fd00::2"] }]);
    assert.equal(node.resources.mru, 8n * GIB);
    assert.deepEqual(node.power, { target: "up", state: "up", changedAt: node.power.changedAt });
    assert.equal(await n.nodeIdByTwin(node.twinId), id);
    // CU = min(max(2,2), max(1,4), max(4,1)) = 2, SU = 100/200 = 0.5 -> weight 4.5
    assert.equal((await n.getFarm(g.farmId)).weightMilli - weightBefore, 4500n);

    await assertRevert(n.registerNode({ farmId: g.farmId, resources: NODE_RESOURCES }), "NodeExists", NodeError, "already has node");
    await assertRevert(g.clientFor(devAccount(11).privateKey).registerNode({ farmId: g.farmId, resources: NODE_RESOURCES }), "NoTwin");

    await n.updateNode(id, { farmId: g.farmId, resources: { cru: 8n, mru: 8n * GIB, sru: 100n * GIB, hru: 0n }, serial: "SN2" });
    const updated = await n.getNode(id);
    assert.equal(updated.serial, "SN2");
    assert.equal(updated.resources.cru, 8n);
    assert.deepEqual(updated.interfaces, []);
    await assertRevert(g.stranger.updateNode(id, { farmId: g.farmId, resources: NODE_RESOURCES }), "NotNodeTwin", AuthorizationError, `is not the twin of node ${id}`);
    await assertRevert(g.user.getNode(999), "NodeNotFound", NodeError, "node 999 does not exist");
  });

  test("uptime reports: event, timestamp within 60 s of chain time", async () => {
    const now = await g.now();
    await g.node1.reportUptime(3600n, now + 1n);
    const node = await g.node1.getNode(g.nodeId1);
    assert.equal(node.uptime, 3600n);
    assert.equal(node.lastUptimeReport, now + 1n);
    const events = await g.node1.getEvents({ fromBlock: await g.node1.getBlockNumber() });
    assert.ok(events.some((e) => e.eventName === "NodeUptimeReported" && e.args.nodeId === g.nodeId1));
    await assertRevert(g.node1.reportUptime(1n, now + 500n), "UptimeDrift", NodeError, "more than 60 s");
    await assertRevert(g.node1.reportUptime(1n, now - 500n), "UptimeDrift", NodeError);
    await assertRevert(g.user.reportUptime(1n, now), "NodeNotFound", NodeError, "the sender's twin has no node");
  });

  test("power: the farmer sets the target, the node its state; standby refuses new contracts", async () => {
    await assertRevert(g.stranger.setPowerTarget(g.nodeId2, false), "NotFarmer", AuthorizationError);
    await g.farmer.setPowerTarget(g.nodeId2, false);
    assert.equal((await g.user.getNode(g.nodeId2)).power.target, "down");
    await assertRevert(g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(1) }), "NodeInStandby", ContractError, `node ${g.nodeId2} is in standby`);
    await g.node2.setPowerState(false);
    assert.equal((await g.user.getNode(g.nodeId2)).power.state, "down");
    await g.farmer.setPowerTarget(g.nodeId2, true);
    await assertRevert(g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(1) }), "NodeInStandby", ContractError);
    await g.node2.setPowerState(true);
    const cid = await g.user.createNodeContract({ nodeId: g.nodeId2, deploymentHash: testHash(1) });
    await g.user.cancelContract(cid);
    await assertRevert(g.user.setPowerState(false), "NodeNotFound", NodeError);
  });

  test("delete: by the node's twin or the farmer, refused while contracts are live", async () => {
    const n = g.clientFor(devAccount(12).privateKey);
    await n.createTwin({ peerId: "p12" });
    const id = await n.registerNode({ farmId: g.farmId, resources: NODE_RESOURCES });
    const cid = await g.user.createNodeContract({ nodeId: id, deploymentHash: testHash(7) });
    await assertRevert(n.deleteNode(id), "NodeHasContracts", NodeError, `node ${id} has 1 live contracts`);
    await assertRevert(g.stranger.deleteNode(id), "NotNodeTwin", AuthorizationError);
    await g.user.cancelContract(cid);
    const countBefore = (await g.farmer.getFarm(g.farmId)).nodeCount;
    await g.farmer.deleteNode(id);
    await assertRevert(g.user.getNode(id), "NodeNotFound", NodeError);
    assert.equal(await g.user.nodeIdByTwin(await n.twinIdByAccount(devAccount(12).address)), 0);
    assert.equal((await g.farmer.getFarm(g.farmId)).nodeCount, countBefore - 1);
    // the twin may register again
    await n.registerNode({ farmId: g.farmId, resources: NODE_RESOURCES });
  });
});
