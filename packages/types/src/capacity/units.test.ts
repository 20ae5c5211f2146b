import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { GiB, MiB, ZERO_CAPACITY, addCapacity, formatBytes, missingCapacity, subtractCapacity } from "./capacity.ts";
import { CU_SCALE, DEV_PRICES, SU_SCALE, computeUnits, costUnits, cuScaled, ipUnits, storageUnits, suScaled } from "./units.ts";

describe("capacity units", () => {
  const table: Array<[number, number, number]> = [
    // cru, mru GiB, CU
    [2, 4, 1],
    [1, 2, 0.5],
    [4, 8, 2],
    [1, 16, 2], // memory-heavy: min(max(4, .5), max(2, 1), max(8, .25)) = min(4, 2, 8)
    [8, 1, 2], // cpu-heavy: min(max(.25,4), max(.125,8), max(.5,2)) = 2
    [0, 0, 0],
  ];
  for (const [cru, mru, cu] of table) {
    test(`CU(cru=${cru}, mru=${mru} GiB) = ${cu}`, () => assert.equal(computeUnits({ cru, mru: mru * GiB }), cu));
  }

  test("SU = hru/1200 + sru/200", () => {
    assert.equal(storageUnits({ sru: 200 * GiB, hru: 0 }), 1);
    assert.equal(storageUnits({ sru: 0, hru: 1200 * GiB }), 1);
    assert.equal(storageUnits({ sru: 100 * GiB, hru: 600 * GiB }), 1);
    assert.equal(ipUnits({ ipv4u: 3 }), 3);
  });

  test("scaled forms are exact and agree with the float formula", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 512 }), fc.integer({ min: 0, max: 4096 * 1024 }), (cru, mruMiB) => {
      const mru = mruMiB * MiB;
      const g = mru / GiB;
      const expected = Math.min(Math.max(g / 4, cru / 2), Math.max(g / 8, cru), Math.max(g / 2, cru / 4));
      const scaled = cuScaled({ cru, mru });
      assert.ok(Math.abs(Number(scaled) / Number(CU_SCALE) - expected) < 1e-9);
    }), { numRuns: 2000 });
    assert.equal(suScaled({ sru: 200 * GiB, hru: 0 }) * 1n, SU_SCALE);
  });

  test("cost: one CU-hour at dev prices is the CU price; rounding down once", () => {
    const c = { ...ZERO_CAPACITY, cru: 2, mru: 4 * GiB };
    assert.equal(costUnits(c, 3600, DEV_PRICES), 100_000n);
    assert.equal(costUnits(c, 1, DEV_PRICES), 27n); // 100000/3600 = 27.7 -> 27
    assert.equal(costUnits({ ...ZERO_CAPACITY, ipv4u: 1 }, 7200, DEV_PRICES), 80_000n);
    assert.equal(costUnits({ ...ZERO_CAPACITY, sru: 200 * GiB }, 3600, DEV_PRICES), 50_000n);
  });

  test("arithmetic helpers", () => {
    const a = { cru: 2, mru: 2 * GiB, sru: 10 * GiB, hru: 0, ipv4u: 1 };
    assert.deepEqual(addCapacity(a, a), { cru: 4, mru: 4 * GiB, sru: 20 * GiB, hru: 0, ipv4u: 2 });
    assert.deepEqual(subtractCapacity(a, addCapacity(a, a)), ZERO_CAPACITY);
    assert.deepEqual(missingCapacity(addCapacity(a, a), a).map((m) => m.resource), ["cru", "mru", "sru", "ipv4u"]);
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(2 * GiB), "2 GiB");
  });
});
