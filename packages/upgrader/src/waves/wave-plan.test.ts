import { test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, toBytes } from "viem";
import { planWaves, waveGate, type NodeReport } from "./wave-plan.ts";

const h = (s: string) => keccak256(toBytes(s));

test("waves: one canary per farm, then 10% of all nodes, then the rest; deterministic per release", () => {
  const nodes = Array.from({ length: 40 }, (_, i) => ({ nodeId: i + 1, farmId: (i % 4) + 1 }));
  const plan = planWaves(h("r1"), nodes);
  assert.equal(plan.waves.length, 3);
  assert.equal(plan.waves[0]!.length, 4, "one canary per farm");
  assert.deepEqual(new Set(plan.waves[0]!.map((id) => nodes[id - 1]!.farmId)), new Set([1, 2, 3, 4]));
  assert.equal(plan.waves[1]!.length, 4, "10% of 40");
  assert.equal(plan.waves[2]!.length, 32);
  assert.deepEqual(plan.waves.flat().sort((a, b) => a - b), nodes.map((n) => n.nodeId), "every node exactly once");
  // every node computes the same plan whatever order it read the nodes in
  assert.deepEqual(planWaves(h("r1"), [...nodes].reverse()).waves, plan.waves);
  // another release draws other canaries
  assert.notDeepEqual(planWaves(h("r2"), nodes).waves[0], plan.waves[0]);
  // small grid: 3 nodes in one farm -> three waves of one
  assert.deepEqual(planWaves(h("r1"), nodes.slice(0, 3).map((n) => ({ ...n, farmId: 1 }))).waves.map((w) => w.length), [1, 1, 1]);
  assert.throws(() => plan.waveOf(99), /not in the rollout plan/);
});

test("a wave opens when earlier up nodes run the release, never after one of them failed it", () => {
  const plan = planWaves(h("r1"), [1, 2, 3].map((nodeId) => ({ nodeId, farmId: 1 })));
  const [[a], [b], [c]] = plan.waves as [[number], [number], [number]];
  const reports = new Map<number, NodeReport>([[a, { running: "1.0.0", failed: "", up: true }], [b, { running: "1.0.0", failed: "", up: true }], [c, { running: "1.0.0", failed: "", up: true }]]);
  assert.equal(waveGate(plan, 0, "2.0.0", reports).open, true, "the canary starts at once");
  assert.deepEqual(waveGate(plan, 1, "2.0.0", reports), { open: false, waitingFor: [a], failed: [] });
  reports.set(a, { running: "2.0.0", failed: "", up: true });
  assert.equal(waveGate(plan, 1, "2.0.0", reports).open, true);
  assert.deepEqual(waveGate(plan, 2, "2.0.0", reports).waitingFor, [b]);
  reports.set(b, { running: "1.0.0", failed: "", up: false });
  assert.equal(waveGate(plan, 2, "2.0.0", reports).open, true, "a node that is down does not hold the rollout");
  reports.set(a, { running: "2.0.0", failed: "3.0.0", up: true });
  assert.deepEqual(waveGate(plan, 1, "3.0.0", reports), { open: false, waitingFor: [], failed: [a] }, "a failed canary stops the next waves");
});
