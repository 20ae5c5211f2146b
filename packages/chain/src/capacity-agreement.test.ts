// The chain's CU/SU and cost math agrees exactly with @zgrid/types on many random inputs.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { cuScaled, suScaled, costUnits, DEV_PRICES, type Capacity } from "@zgrid/types";
import { startTestGrid, testHash, type TestGrid } from "./devchain/test-grid.ts";
import { devAccount } from "./devchain/dev-accounts.ts";
import { cuNumerator, suNumerator, nodeContractRate, DEV_PRICING_POLICY, RATE_DEN, OWED_SCALE, GIB, discountPct } from "./pricing.ts";

const capacity = fc.record({
  cru: fc.integer({ min: 0, max: 1024 }),
  mru: fc.oneof(fc.integer({ min: 0, max: 4096 }).map((g) => g * Number(GIB)), fc.integer({ min: 0, max: 2 ** 42 })),
  sru: fc.oneof(fc.integer({ min: 0, max: 100_000 }).map((g) => g * Number(GIB)), fc.integer({ min: 0, max: 2 ** 50 })),
  hru: fc.oneof(fc.integer({ min: 0, max: 100_000 }).map((g) => g * Number(GIB)), fc.integer({ min: 0, max: 2 ** 50 })),
  ipv4u: fc.integer({ min: 0, max: 4 }),
});
const toResources = (c: Capacity) => ({ cru: BigInt(c.cru), mru: BigInt(c.mru), sru: BigInt(c.sru), hru: BigInt(c.hru) });

describe("capacity and cost math: chain == @zgrid/types", () => {
  let g: TestGrid;
  before(async () => { g = await startTestGrid({ twins: 3, publicIps: 4 }); });
  after(async () => { await g?.stop(); });

  test("CU and SU numerators from the contract equal @zgrid/types cuScaled/suScaled (300 random inputs)", async () => {
    await fc.assert(fc.asyncProperty(capacity, async (c) => {
      const chain = await g.admin.capacityUnits(toResources(c));
      assert.equal(chain.cuNumerator, cuScaled(c));
      assert.equal(chain.suNumerator, suScaled(c));
      assert.equal(chain.cuNumerator, cuNumerator(toResources(c)));
      assert.equal(chain.suNumerator, suNumerator(toResources(c)));
    }), { numRuns: 300 });
  });

  test("the TS mirror of the contract's rate gives @zgrid/types costUnits exactly (5,000 random inputs)", () => {
    fc.assert(fc.property(capacity, fc.integer({ min: 0, max: 10 * 365 * 86400 }), (c, seconds) => {
      const rate = nodeContractRate(DEV_PRICING_POLICY, toResources(c), c.ipv4u);
      assert.equal((rate * BigInt(seconds)) / RATE_DEN, costUnits(c, seconds, DEV_PRICES));
    }), { numRuns: 5000 });
  });

  test("what the chain bills equals @zgrid/types costUnits (random contracts, simulated time)", async () => {
    const user = g.clientFor(devAccount(7).privateKey);
    await user.createTwin({ peerId: "p7" });
    await g.admin.mint(devAccount(7).address, 10n ** 9n); // small: no discount
    let n = 0;
    await fc.assert(fc.asyncProperty(capacity, fc.integer({ min: 1, max: 48 * 3600 }), async (c, seconds) => {
      const cap = { ...c, cru: c.cru % 64, mru: c.mru % (256 * Number(GIB)), sru: c.sru % (2048 * Number(GIB)), hru: c.hru % (8192 * Number(GIB)) };
      // top up enough to pay (3x the cost) but not so much that a discount applies (see below)
      await g.admin.mint(devAccount(7).address, costUnits({ ...cap, ipv4u: 0 }, seconds, DEV_PRICES) * 3n + 1n);
      const t = (await g.now()) + 10n;
      await g.chain.testClient.setNextBlockTimestamp({ timestamp: t });
      const id = await user.createNodeContract({ nodeId: g.nodeId1, deploymentHash: testHash(++n), publicIps: 0 });
      await g.chain.testClient.setNextBlockTimestamp({ timestamp: t + 1n });
      await g.node1.reportContractResources(id, toResources(cap));
      await g.chain.testClient.setNextBlockTimestamp({ timestamp: t + 1n + BigInt(seconds) });
      const balance = await user.balanceOf();
      const r = await g.admin.settle(id);
      const rate = nodeContractRate(DEV_PRICING_POLICY, toResources(cap), 0);
      assert.equal((await user.getContract(id)).billing.rate, rate);
      const pct = discountPct(balance, rate);
      if (pct === 100n) assert.equal(r.units, costUnits({ ...cap, ipv4u: 0 }, seconds, DEV_PRICES));
      else assert.equal(r.units, (rate * BigInt(seconds) * pct) / OWED_SCALE); // tiny capacity: the balance earns a discount
      await user.cancelContract(id);
    }), { numRuns: 15 });
  });
});
