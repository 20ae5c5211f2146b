import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ReplayCache } from "./replay-cache.ts";
import { TwinRateLimiter } from "./twin-rate-limiter.ts";

describe("replay cache and rate limiter", () => {
  test("a uid is refused until it expires, then swept", () => {
    const cache = new ReplayCache();
    assert.equal(cache.add("1:a", 2_000, 1_000), true);
    assert.equal(cache.add("1:a", 2_000, 1_500), false);
    assert.equal(cache.add("2:a", 2_000, 1_500), true);
    cache.sweep(3_000);
    assert.equal(cache.size, 0);
    assert.equal(cache.add("1:a", 4_000, 3_000), true);
  });

  test("token buckets are per twin and refill over time", () => {
    const limiter = new TwinRateLimiter({ ratePerSecond: 2, burst: 3 });
    const t0 = 10_000;
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take(7, t0)), [true, true, true, false]);
    assert.equal(limiter.take(8, t0), true);
    assert.equal(limiter.take(7, t0 + 499), false);
    assert.equal(limiter.take(7, t0 + 500), true);
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take(7, t0 + 60_000)), [true, true, true, false]);
  });

  test("reserve: over the rate a twin waits its turn (debt grows), refused only past the longest wait", () => {
    const limiter = new TwinRateLimiter({ ratePerSecond: 10, burst: 2 });
    const t0 = 50_000;
    assert.deepEqual([1, 2].map(() => limiter.reserve(7, 2000, t0)), [0, 0]);
    assert.deepEqual([1, 2, 3].map(() => Math.round(limiter.reserve(7, 2000, t0))), [100, 200, 300], "each next request one token later");
    assert.equal(limiter.reserve(8, 2000, t0), 0, "another twin has its own bucket");
    assert.equal(limiter.reserve(7, 250, t0), -1, "past the longest wait: refused, nothing reserved");
    assert.equal(Math.round(limiter.reserve(7, 2000, t0 + 300)), 100, "time pays the debt back");
    assert.equal(limiter.take(7, t0 + 300), false);
  });
});
