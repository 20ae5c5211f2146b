import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestGrid, testHash, type TestGrid } from "../devchain/test-grid.ts";
import { assertRevert } from "../devchain/assert-revert.ts";
import { devAccount } from "../devchain/dev-accounts.ts";
import { AuthorizationError } from "../errors/chain-error.ts";
import { ContractError } from "../errors/contract-errors.ts";
import type { GridClient } from "./create-grid-client.ts";
import { DEV_PRICING_POLICY, GIB, OWED_SCALE, nodeContractRate, rentContractRate, nameContractRate, discountPct } from "../pricing.ts";
import { NODE_RESOURCES } from "../devchain/test-grid.ts";
import { governedCalls } from "./governed-calls.ts";
import { write } from "./context.ts";
import { gridContractsAbi, registryAbi } from "../abis.ts";

const HOUR = 3600n;
const used = { cru: 2n, mru: 4n * GIB, sru: 50n * GIB, hru: 0n }; // SU 0.25, CU 1

describe("billing", () => {
  let g: TestGrid;
  let next: bigint;
  /** Runs `fn` in a block with timestamp `at` (simulated time). */
  const at = async <T>(t: bigint, fn: () => Promise<T>): Promise<T> => {
    await g.chain.testClient.setNextBlockTimestamp({ timestamp: t });
    return fn();
  };
  const newTwin = async (index: number, funds: bigint): Promise<GridClient> => {
    const c = g.clientFor(devAccount(index).privateKey);
    await c.createTwin({ peerId: `p${index}` });
    if (funds > 0n) await g.admin.mint(devAccount(index).address, funds);
    return c;
  };
  before(async () => {
    g = await startTestGrid();
    next = (await g.now()) + 100n;
  });
  after(async () => { await g?.stop(); });

  test("create -> 10 h -> settle -> grace -> top up -> resume -> expire -> deleted, balances exact to the unit", async () => {
    const user = await newTwin(13, 2_000_000n);
    const farmerAddr = g.chain.twins[0]!.address;
    const treasury = (await g.admin.getBillingConfig()).treasury;
    assert.equal(treasury, g.chain.admin.address);
    const bal = async () => ({
      user: await g.admin.balanceOf(user.account!), farmer: await g.admin.balanceOf(farmerAddr),
      treasury: await g.admin.balanceOf(treasury), supply: await g.admin.totalSupply(),
    });
    const start = await bal();
    // the model: owed is scaled by OWED_SCALE; pct 100 (the balance covers < 1.5 months)
    const ipRate = nodeContractRate(DEV_PRICING_POLICY, { cru: 0n, mru: 0n, sru: 0n, hru: 0n }, 1);
    const fullRate = nodeContractRate(DEV_PRICING_POLICY, used, 1);
    assert.equal(discountPct(2_000_000n, fullRate), 100n);
    let owed = 0n;
    const split = (amount: bigint) => ({ farmer: (amount * 50n) / 100n, burn: (amount * 35n) / 100n });

    const T0 = next;
    const id = await at(T0, () => user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(1), publicIps: 1 }));
    await at(T0 + 1n, () => g.node1.reportContractResources(id, used));
    owed += ipRate * 1n * 100n;

    // 10 hours later anyone settles: 10 h x 152,500 units/h + 1 s of the IP (11.1 units)
    const T1 = T0 + 1n + 10n * HOUR;
    const r1 = await at(T1, () => g.stranger.settle(id));
    owed += fullRate * 10n * HOUR * 100n;
    const units1 = owed / OWED_SCALE;
    assert.equal(units1, 1_525_011n);
    owed -= units1 * OWED_SCALE;
    assert.deepEqual(r1, { paid: true, units: units1, amount: units1 });
    const b1 = await bal();
    assert.equal(b1.user, start.user - 1_525_011n);
    assert.equal(b1.farmer - start.farmer, 762_505n);
    assert.equal(start.supply - b1.supply, 533_753n);
    assert.equal(b1.treasury - start.treasury, 1_525_011n - 762_505n - 533_753n);
    assert.equal((await g.admin.getContract(id)).billing.totalPaid, 1_525_011n);

    // 4 more hours cost 610,000 > 474,989 left: grace period, nothing charged
    const T2 = T1 + 4n * HOUR;
    const r2 = await at(T2, () => g.stranger.settle(id));
    owed += fullRate * 4n * HOUR * 100n;
    assert.equal(r2.paid, false);
    let c = await g.admin.getContract(id);
    assert.equal(c.state, "grace_period");
    assert.equal(c.graceSince, T2);
    assert.equal((await bal()).user, b1.user);
    await assertRevert(user.updateNodeContract(id, { deploymentHash: testHash(2) }), "ContractInGrace", ContractError, "grace period");

    // top up, settle an hour later: Created again, the 5 hours charged
    await at(T2 + 10n, () => g.admin.mint(user.account!, 1_000_000n));
    const T3 = T2 + HOUR;
    const r3 = await at(T3, () => user.settle(id));
    owed += fullRate * HOUR * 100n;
    const units3 = owed / OWED_SCALE;
    assert.equal(units3, 762_500n);
    owed -= units3 * OWED_SCALE;
    assert.deepEqual(r3, { paid: true, units: units3, amount: units3 });
    c = await g.admin.getContract(id);
    assert.equal(c.state, "created");
    const b3 = await bal();
    assert.equal(b3.user, b1.user + 1_000_000n - 762_500n);
    assert.equal(b3.farmer - b1.farmer, split(762_500n).farmer);
    assert.equal(b1.supply + 1_000_000n - b3.supply, split(762_500n).burn);

    // 5 hours later the balance is short again -> grace; 14 days later -> Deleted(OutOfFunds)
    const T4 = T3 + 5n * HOUR;
    const r4 = await at(T4, () => g.stranger.settle(id));
    assert.equal(r4.paid, false);
    assert.equal((await g.admin.getContract(id)).state, "grace_period");
    const grace = (await g.admin.getBillingConfig()).gracePeriod;
    assert.equal(grace, 14n * 24n * HOUR);
    // one second before the end of the grace period it is still in grace
    assert.equal((await at(T4 + grace - 1n, () => g.stranger.settle(id))).paid, false);
    assert.equal((await g.admin.getContract(id)).state, "grace_period");
    const from = (await g.admin.getBlockNumber()) + 1n;
    const r5 = await at(T4 + grace, () => g.stranger.settle(id));
    assert.equal(r5.paid, false);
    // what was left is taken, the rest of the debt is dropped
    assert.equal(r5.amount, b3.user);
    c = await g.admin.getContract(id);
    assert.equal(c.state, "deleted");
    assert.equal(c.cause, "out_of_funds");
    const b5 = await bal();
    assert.equal(b5.user, 0n);
    assert.equal(b5.farmer - b3.farmer, split(b3.user).farmer);
    assert.equal(b3.supply - b5.supply, split(b3.user).burn);
    assert.equal(b5.treasury - b3.treasury, b3.user - split(b3.user).farmer - split(b3.user).burn);
    assert.ok((await g.admin.getFarm(g.farmId)).publicIps.every((p) => p.contractId === 0), "IPs freed");
    assert.deepEqual(await g.admin.listNodeContracts(g.nodeId1), []);
    const names = (await g.admin.getEvents({ fromBlock: from })).filter((e) => e.source === "contracts").map((e) => e.eventName);
    assert.deepEqual(names, ["ContractUnpaid", "ContractBilled", "ContractDeleted"]);
    await assertRevert(g.stranger.settle(id), "ContractNotLive", ContractError);
    next = T4 + grace + 100n;
  });

  test("grace and resume events", async () => {
    const user = await newTwin(14, 100n);
    const id = await at(next, () => user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(3), publicIps: 1 }));
    const from = (await g.admin.getBlockNumber()) + 1n;
    await at(next + HOUR, () => g.stranger.settle(id));
    await g.admin.mint(user.account!, 10n ** 9n);
    await g.stranger.settle(id);
    const events = (await g.admin.getEvents({ fromBlock: from })).filter((e) => e.source === "contracts");
    assert.deepEqual(events.map((e) => e.eventName), ["ContractUnpaid", "ContractGracePeriodStarted", "ContractBilled", "ContractResumed"]);
    await user.cancelContract(id);
    next = (await g.now()) + 10n;
  });

  test("discounts by months of balance held: 18+ months pays 40%", async () => {
    const rich = await newTwin(15, 10n ** 13n);
    const id = await at(next, () => rich.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(4) }));
    await at(next + 1n, () => g.node1.reportContractResources(id, used));
    const rate = nodeContractRate(DEV_PRICING_POLICY, used, 0);
    assert.equal(discountPct(10n ** 13n, rate), 40n);
    const r = await at(next + 1n + HOUR, () => g.stranger.settle(id));
    assert.equal(r.units, (112_500n * 40n) / 100n);
    // 1.5 months of balance: 80%
    assert.equal(discountPct((rate * 30n * 24n * HOUR * 3n) / 2n / (2n * 3600n * 9600n * GIB), rate), 80n);
    await rich.cancelContract(id);
    next = (await g.now()) + 10n;
  });

  test("rent is billed at 50% of the node only while the node is up; name contracts and network usage are billed", async () => {
    const renter = await newTwin(16, 10_000_000n);
    const rentId = await at(next, () => renter.createRentContract(g.nodeId2));
    assert.equal((await renter.getContract(rentId)).billing.rate, rentContractRate(DEV_PRICING_POLICY, NODE_RESOURCES));
    await at(next + HOUR, () => g.node2.setPowerState(false));
    await at(next + 3n * HOUR, () => g.node2.setPowerState(true));
    const r = await at(next + 4n * HOUR, () => g.stranger.settle(rentId));
    // 2 hours up: SU 8.5333 x 50,000 + CU 16 x 100,000 = 2,026,666.67/h full; 50% x 2 h
    assert.equal(r.units, 2_026_666n);
    await renter.cancelContract(rentId);

    const t = (await g.now()) + 10n;
    const nameId = await at(t, () => renter.createNameContract("billed"));
    // 10 h x 2,500; the ~8M units left cover 4.4 months of the name: 30% off
    assert.equal(discountPct(await renter.balanceOf(), nameContractRate(DEV_PRICING_POLICY)), 70n);
    assert.equal((await at(t + 10n * HOUR, () => g.stranger.settle(nameId))).units, (25_000n * 70n) / 100n);
    assert.equal((await renter.getContract(nameId)).billing.rate, nameContractRate(DEV_PRICING_POLICY));
    await renter.cancelContract(nameId);

    const nid = await at(t + 10n * HOUR + 10n, () => renter.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(5) }));
    await at(t + 10n * HOUR + 11n, () => g.node1.reportNetworkUsage(nid, 10n * GIB));
    const paid = await at(t + 10n * HOUR + 12n, () => g.stranger.settle(nid));
    assert.equal(paid.units, 150_000n); // 10 GiB x 15,000
    await renter.cancelContract(nid);
    next = (await g.now()) + 10n;
  });

  test("billing settings and collective cancellation: only through governance, shares validated", async () => {
    const cfg = await g.admin.getBillingConfig();
    const calls = governedCalls(g.chain.addresses);
    const a = g.chain.addresses;
    assert.deepEqual({ farmerPct: cfg.farmerPct, burnPct: cfg.burnPct, tokenPrice: cfg.tokenPrice }, { farmerPct: 50, burnPct: 35, tokenPrice: 10_000_000n });
    // the deployer (old admin) and anyone else are refused
    for (const who of [g.admin, g.farmer]) {
      await assertRevert(write(who.context, a.contracts, gridContractsAbi, "setBillingConfig", [cfg.treasury, 90, 5, cfg.gracePeriod, cfg.tokenPrice]), "NotAdmin", AuthorizationError);
      await assertRevert(write(who.context, a.registry, registryAbi, "setPricingPolicy", [{ ...DEV_PRICING_POLICY, id: 1 }]), "NotAdmin", AuthorizationError);
    }
    await assertRevert(g.farmer.mint(g.farmer.account!, 1n), "NotMinter", AuthorizationError);
    // a governed call that reverts reports the inner reason
    await assertRevert(g.govern(calls.setBillingConfig({ ...cfg, farmerPct: 70, burnPct: 35 })), "InvalidShares");
    await g.govern(calls.setBillingConfig({ ...cfg, gracePeriod: 3600n }));
    assert.equal((await g.admin.getBillingConfig()).gracePeriod, 3600n);
    await g.govern(calls.setBillingConfig(cfg));
    const user = await newTwin(17, 0n);
    const id = await user.createNameContract("admin-cancel");
    await assertRevert(write(g.admin.context, a.contracts, gridContractsAbi, "adminCancelContract", [BigInt(id)]), "NotAdmin", AuthorizationError);
    await g.govern(calls.cancelContract(id));
    assert.equal((await user.getContract(id)).cause, "canceled_by_collective");
  });
});
