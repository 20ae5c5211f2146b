import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestGrid, type TestGrid } from "./devchain/test-grid.ts";
import { assertRevert } from "./devchain/assert-revert.ts";
import { devAccount } from "./devchain/dev-accounts.ts";
import { AuthorizationError } from "./errors/chain-error.ts";
import { GovernanceError } from "./errors/governance-errors.ts";
import { FarmError } from "./errors/farm-errors.ts";
import { GIB, DEV_PRICING_POLICY } from "./pricing.ts";
import { write } from "./client/context.ts";
import { governanceAbi, gridContractsAbi, gridTokenAbi, registryAbi } from "./abis.ts";
import { governedCalls } from "./client/governed-calls.ts";
import { DEV_GOVERNANCE } from "./devchain/start-dev-chain.ts";

describe("governance of the Zero-OS version", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid(); });
  after(async () => { await g?.stop(); });

  test("council proposes, farmers vote with their capacity, an approved version is what nodes read", async () => {
    assert.deepEqual(await g.node1.getZosVersion(), { version: "v0.1.0", safeToUpgrade: true });
    await assertRevert(g.farmer.propose({ version: "v9", safeToUpgrade: true, votingSeconds: 100n }), "NotCouncil", AuthorizationError);
    // a second farm with a smaller node votes no
    const farmer2 = g.clientFor(devAccount(8).privateKey);
    await farmer2.createTwin({ peerId: "f2" });
    const farm2 = await farmer2.createFarm({ name: "farm-two" });
    const nodeTwin = g.clientFor(devAccount(9).privateKey);
    await nodeTwin.createTwin({ peerId: "n9" });
    await nodeTwin.registerNode({ farmId: farm2, resources: { cru: 2n, mru: 4n * GIB, sru: 200n * GIB, hru: 0n } });
    const emptyFarm = await farmer2.createFarm({ name: "farm-empty" });

    const id = await g.admin.propose({ version: "v0.2.0", safeToUpgrade: false, description: "new kernel", votingSeconds: 3600n });
    const p = await g.admin.getProposal(id);
    assert.equal(p.version, "v0.2.0");
    await assertRevert(g.stranger.vote(id, g.farmId, true), "NotFarmer", AuthorizationError);
    await assertRevert(farmer2.vote(id, emptyFarm, true), "NoVotingWeight", GovernanceError);
    await assertRevert(farmer2.vote(id, 77, true), "FarmNotFound", FarmError);
    await g.farmer.vote(id, g.farmId, true);
    await assertRevert(g.farmer.vote(id, g.farmId, false), "AlreadyVoted", GovernanceError);
    await farmer2.vote(id, farm2, false);
    const voted = await g.admin.getProposal(id);
    assert.equal(voted.yesWeight, (await g.admin.getFarm(g.farmId)).weightMilli);
    assert.equal(voted.noWeight, 3000n); // CU 1, SU 1: 2*CU + SU = 3
    await assertRevert(g.stranger.closeProposal(id), "VotingOpen", GovernanceError);
    await g.chain.advanceTime(3601);
    await assertRevert(g.farmer.vote(id, g.farmId, true), "VotingClosed", GovernanceError);
    assert.equal(await g.stranger.closeProposal(id), true);
    await assertRevert(g.stranger.closeProposal(id), "VotingClosed", GovernanceError);
    assert.deepEqual(await g.node1.getZosVersion(), { version: "v0.2.0", safeToUpgrade: false });

    // staged rollout: the council marks it safe
    await assertRevert(g.farmer.setSafeToUpgrade(true), "NotCouncil", AuthorizationError);
    await g.admin.setSafeToUpgrade(true);
    assert.deepEqual(await g.node1.getZosVersion(), { version: "v0.2.0", safeToUpgrade: true });

    // council membership is a governed call too; a rejected proposal changes nothing
    await assertRevert(write(g.admin.context, g.chain.addresses.governance, governanceAbi, "setCouncilMember", [g.farmer.account!, true]), "NotGovernance", AuthorizationError);
    await g.govern(governedCalls(g.chain.addresses).setCouncilMember(g.farmer.account!, true));
    assert.equal(await g.admin.isCouncilMember(g.farmer.account!), true);
    const id2 = await g.farmer.propose({ version: "v0.3.0", safeToUpgrade: true, votingSeconds: 10n });
    await farmer2.vote(id2, farm2, false);
    await g.chain.advanceTime(11);
    assert.equal(await g.stranger.closeProposal(id2), false);
    assert.equal((await g.node1.getZosVersion()).version, "v0.2.0");
    await assertRevert(g.admin.getProposal(99), "ProposalNotFound", GovernanceError);
    const names = (await g.admin.getEvents({ fromBlock: 0n })).filter((e) => e.source === "governance").map((e) => e.eventName);
    for (const n of ["ProposalCreated", "Voted", "ProposalClosed", "ZosVersionChanged", "CouncilMemberSet"]) assert.ok(names.includes(n as never), n);
  });

  test("no single key rules the grid: admin powers are governed calls with a timelock", async () => {
    const a = g.chain.addresses;
    const calls = governedCalls(a);
    const deployer = g.admin.context;
    // the deployer keeps nothing: every admin function refuses it
    await assertRevert(write(deployer, a.registry, registryAbi, "setContractsModule", [g.admin.account!]), "NotAdmin", AuthorizationError);
    await assertRevert(write(deployer, a.registry, registryAbi, "setAdmin", [g.admin.account!]), "NotAdmin", AuthorizationError);
    await assertRevert(write(deployer, a.contracts, gridContractsAbi, "setAdmin", [g.admin.account!]), "NotAdmin", AuthorizationError);
    await assertRevert(write(deployer, a.token, gridTokenAbi, "setOperator", [g.admin.account!]), "NotAdmin", AuthorizationError);
    await assertRevert(write(deployer, a.token, gridTokenAbi, "setMinter", [g.stranger.account!]), "NotAdmin", AuthorizationError);
    assert.deepEqual(await g.admin.governanceParams(), { minVotingSeconds: DEV_GOVERNANCE.minVotingSeconds, timelockSeconds: DEV_GOVERNANCE.timelockSeconds });

    // proposals: council only, a minimum voting period, governed targets only
    const policy = { ...DEV_PRICING_POLICY, id: 1, cu: DEV_PRICING_POLICY.cu * 2n };
    await assertRevert(g.stranger.proposeCall(calls.setPricingPolicy(policy), { votingSeconds: 100n }), "NotCouncil", AuthorizationError);
    await assertRevert(g.admin.proposeCall(calls.setPricingPolicy(policy), { votingSeconds: 1n }), "VotingTooShort", GovernanceError);
    await assertRevert(g.admin.proposeCall({ target: g.stranger.account!, data: "0x", label: "x" }, { votingSeconds: 100n }), "TargetNotGoverned", GovernanceError);

    // a governed pricing change takes effect only after its timelock
    const before = (await g.admin.getPricingPolicy(1)).cu;
    const id = await g.admin.proposeCall(calls.setPricingPolicy(policy), { votingSeconds: 100n });
    await assertRevert(g.stranger.executeProposal(id), "NotExecutable", GovernanceError);
    await g.farmer.vote(id, g.farmId, true);
    await g.chain.advanceTime(101);
    assert.equal(await g.stranger.closeProposal(id), true);
    const queued = await g.admin.getProposalCall(id);
    assert.equal(queued.executed, false);
    assert.ok(queued.eta > 0n);
    await assertRevert(g.stranger.executeProposal(id), "TimelockActive", GovernanceError);
    assert.equal((await g.admin.getPricingPolicy(1)).cu, before, "nothing changes before the timelock ends");
    await g.chain.advanceTime(Number(DEV_GOVERNANCE.timelockSeconds));
    await g.stranger.executeProposal(id); // anyone may execute
    assert.equal((await g.admin.getPricingPolicy(1)).cu, policy.cu);
    assert.equal((await g.admin.getProposalCall(id)).executed, true);
    await assertRevert(g.stranger.executeProposal(id), "AlreadyExecuted", GovernanceError);

    // a rejected call never runs; a version proposal is not executable
    const rejected = await g.admin.proposeCall(calls.setPricingPolicy({ ...policy, cu: 1n }), { votingSeconds: 100n });
    await g.farmer.vote(rejected, g.farmId, false);
    await g.chain.advanceTime(101);
    assert.equal(await g.stranger.closeProposal(rejected), false);
    await g.chain.advanceTime(Number(DEV_GOVERNANCE.timelockSeconds) + 1);
    await assertRevert(g.stranger.executeProposal(rejected), "NotExecutable", GovernanceError);
    assert.equal((await g.admin.getPricingPolicy(1)).cu, policy.cu);
    await g.govern(calls.setPricingPolicy({ ...policy, cu: before }));

    // users can watch it all
    const names = (await g.admin.getEvents({ fromBlock: 0n })).filter((e) => e.source === "governance").map((e) => e.eventName);
    for (const n of ["CallProposed", "CallQueued", "CallExecuted"]) assert.ok(names.includes(n as never), n);
  });
});
