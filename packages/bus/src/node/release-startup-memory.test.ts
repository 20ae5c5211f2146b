import { test } from "node:test";
import assert from "node:assert/strict";
import { releaseStartupMemory, scheduleStartupMemoryRelease } from "./release-startup-memory.ts";

test("releaseStartupMemory shrinks a heap grown by start-up garbage and leaves no global gc; scheduling happens once per process", () => {
  assert.equal((globalThis as { gc?: unknown }).gc, undefined, "run without --expose-gc");
  // Long-lived-looking garbage, as module loading makes: the young generation grows to hold it.
  let keep: unknown[] = [];
  for (let round = 0; round < 20; round++) {
    keep = Array.from({ length: 20_000 }, (_, i) => ({ i, s: `value ${i} ${round}`, a: [i, i + 1] }));
  }
  assert.ok(keep.length > 0);
  keep = [];
  const before = process.memoryUsage().heapTotal;
  releaseStartupMemory();
  const after = process.memoryUsage().heapTotal;
  assert.ok(after < before, `heap total ${before} -> ${after}`);
  assert.equal((globalThis as { gc?: unknown }).gc, undefined, "the collector is not left on globalThis");
  assert.equal(scheduleStartupMemoryRelease(60_000), true);
  assert.equal(scheduleStartupMemoryRelease(60_000), false, "once per process");
});
