import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { keccak256, toBytes } from "viem";
import { startTestGrid, type TestGrid } from "./devchain/test-grid.ts";
import { assertRevert } from "./devchain/assert-revert.ts";
import { AuthorizationError } from "./errors/chain-error.ts";
import { GovernanceError } from "./errors/governance-errors.ts";
import { NodeError } from "./errors/node-errors.ts";
import { governedCalls } from "./client/governed-calls.ts";
import { write } from "./client/context.ts";
import { governanceAbi } from "./abis.ts";

const hashOf = (s: string) => keccak256(toBytes(s));

describe("governance of releases (upgrades in waves, health reports)", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid(); });
  after(async () => { await g?.stop(); });

  test("a release proposal names its manifest; approved, nodes read version, hash, URL and approval time", async () => {
    await assertRevert(g.farmer.proposeRelease({ version: "v2", manifestHash: hashOf("m2"), manifestUrl: "http://h/v2.json", votingSeconds: 100n }), "NotCouncil", AuthorizationError);
    await assertRevert(g.admin.proposeRelease({ version: "v2", manifestHash: `0x${"0".repeat(64)}`, manifestUrl: "http://h/v2.json", votingSeconds: 100n }), "BadRelease", GovernanceError);
    await assertRevert(g.admin.proposeRelease({ version: "x".repeat(65), manifestHash: hashOf("m2"), manifestUrl: "u", votingSeconds: 100n }), "BadRelease", GovernanceError);
    const before = await g.node1.getApprovedRelease();
    assert.equal(before.approvedAt, 0n);
    const id = await g.approveRelease({ version: "v2", manifestHash: hashOf("m2"), manifestUrl: "http://h/v2.json" });
    assert.deepEqual(await g.node1.getProposalRelease(id), { manifestHash: hashOf("m2"), manifestUrl: "http://h/v2.json" });
    const r = await g.node1.getApprovedRelease();
    assert.equal(r.version, "v2");
    assert.equal(r.safeToUpgrade, true);
    assert.equal(r.manifestHash, hashOf("m2"));
    assert.equal(r.manifestUrl, "http://h/v2.json");
    assert.ok(r.approvedAt > 0n);
  });

  test("nodes report their running version; a failed health gate marks the release unsafe (governed threshold)", async () => {
    await assertRevert(g.stranger.reportVersion({ running: "v2" }), "NodeNotFound", NodeError);
    await g.node1.reportVersion({ running: "v2" });
    const v = await g.node1.getNodeVersion(g.nodeId1);
    assert.equal(v.running, "v2");
    assert.equal(v.failed, "");
    // two failing nodes needed from now on: the council alone cannot set that, governance can
    await assertRevert(write(g.admin.context, g.chain.addresses.governance, governanceAbi, "setUnsafeAfterFailures", [2]), "NotGovernance", AuthorizationError);
    await g.govern(governedCalls(g.chain.addresses).setUnsafeAfterFailures(2));
    await g.approveRelease({ version: "v3", manifestHash: hashOf("m3"), manifestUrl: "http://h/v3.json" });
    // a failure of some other version does not count against v3
    await g.node1.reportVersion({ running: "v2", failed: "v9" });
    assert.equal(await g.node1.failedReports("v9"), 0);
    await g.node1.reportVersion({ running: "v2", failed: "v3" });
    await g.node1.reportVersion({ running: "v2", failed: "v3" }); // counted once per node
    assert.equal(await g.node1.failedReports("v3"), 1);
    assert.equal((await g.node1.getApprovedRelease()).safeToUpgrade, true);
    await g.node2.reportVersion({ running: "v2", failed: "v3" });
    assert.equal(await g.node1.failedReports("v3"), 2);
    const r = await g.node1.getApprovedRelease();
    assert.equal(r.version, "v3");
    assert.equal(r.safeToUpgrade, false, "two failed canaries stop the rollout grid-wide");
    assert.deepEqual({ ...(await g.node1.getNodeVersion(g.nodeId2)), at: 0n }, { running: "v2", failed: "v3", at: 0n });
  });
});
