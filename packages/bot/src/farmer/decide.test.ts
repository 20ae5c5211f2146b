import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decide, minAwake, vacateFailure, type NodeMemory, type NodeView } from "./decide.ts";
import { parseFarmerPolicy } from "./farmer-policy.ts";

const policy = parseFarmerPolicy({ farmId: 1, minAwakeNodes: 1, idleMinutes: 30, uptimeWakeHours: 20, wakeAtUsedPercent: 80 });
const NOW = 1_000_000;
const node = (id: number, o: Partial<NodeView> = {}): NodeView => ({
  nodeId: id, twinId: id + 10, mac: `02:00:00:00:00:0${id}`, target: "up", state: "up", rented: false, deployments: 0, usedCru: 0, totalCru: 16, lastUptimeReport: NOW - 60, ...o,
});
const idleFor = (minutes: number): NodeMemory => ({ idleSince: NOW - minutes * 60 });

describe("farmerbot decisions", () => {
  test("idle nodes past T go to standby, longest idle first, keeping the minimum awake", () => {
    const mem = new Map([[1, idleFor(40)], [2, idleFor(90)], [3, idleFor(10)]]);
    assert.deepEqual(decide(policy, [node(1), node(2), node(3)], mem, NOW), [
      { kind: "off", nodeId: 2, reason: "idle 90 min" }, { kind: "off", nodeId: 1, reason: "idle 40 min" }]);
    const two = parseFarmerPolicy({ farmId: 1, minAwakeNodes: 0, minAwakePercent: 67 });
    assert.equal(minAwake(two, 3), 3);
    assert.deepEqual(decide(two, [node(1), node(2), node(3)], mem, NOW), []);
  });

  test("a rented node, one with workloads or one that does not answer is never powered off", () => {
    const mem = new Map([[1, idleFor(600)], [2, idleFor(600)], [3, idleFor(600)], [4, idleFor(600)]]);
    const p0 = parseFarmerPolicy({ farmId: 1, minAwakeNodes: 0 });
    const actions = decide(p0, [node(1, { rented: true }), node(2, { deployments: 1, usedCru: 2 }), node(3, { deployments: undefined }), node(4)], mem, NOW);
    assert.deepEqual(actions, [{ kind: "off", nodeId: 4, reason: "idle 600 min" }]);
  });

  test("standby nodes are woken for their uptime proof, and go back once it is on chain", () => {
    const stale = node(2, { state: "down", target: "down", lastUptimeReport: NOW - 21 * 3600 });
    assert.deepEqual(decide(policy, [node(1), stale], new Map(), NOW), [{ kind: "wake", nodeId: 2, reason: "uptime" }]);
    const fresh = node(2, { state: "up", target: "up", lastUptimeReport: NOW - 5 });
    const mem = new Map<number, NodeMemory>([[2, { upSince: NOW - 30, upReason: "uptime", idleSince: NOW - 30 }]]);
    assert.deepEqual(decide(policy, [node(1, { deployments: 1 }), fresh], mem, NOW), [{ kind: "off", nodeId: 2, reason: "uptime proof done" }]);
  });

  test("the minimum and the capacity threshold wake standby nodes; a slow wake gets another packet", () => {
    const down = (id: number) => node(id, { state: "down", target: "down" });
    assert.deepEqual(decide(policy, [down(1), down(2)], new Map(), NOW), [{ kind: "wake", nodeId: 1, reason: "minimum" }]);
    assert.deepEqual(decide(policy, [node(1, { deployments: 3, usedCru: 14 }), down(2)], new Map(), NOW), [{ kind: "wake", nodeId: 2, reason: "capacity" }]);
    const waking = new Map<number, NodeMemory>([[2, { wakingSince: NOW - 400, lastWolAt: NOW - 301, wakeReason: "capacity" }]]);
    assert.deepEqual(decide(policy, [node(1, { deployments: 3, usedCru: 14 }), down(2)], waking, NOW), [{ kind: "resend", nodeId: 2 }]);
  });

  test("powering off never pushes the awake nodes over the capacity threshold", () => {
    const mem = new Map([[2, idleFor(60)]]);
    assert.deepEqual(decide(policy, [node(1, { deployments: 2, usedCru: 14 }), node(2)], mem, NOW), []);
  });

  test("while wakes are fast no spare is kept: no capacity wake, and an idle node goes even with the rest over the threshold", () => {
    const down = node(2, { state: "down", target: "down" });
    const full = node(1, { deployments: 3, usedCru: 14 });
    assert.deepEqual(decide(policy, [full, down], new Map(), NOW, { wakeFast: true }), []);
    const mem = new Map([[2, idleFor(60)]]);
    assert.deepEqual(decide(policy, [full, node(2)], mem, NOW, { wakeFast: true }), [{ kind: "off", nodeId: 2, reason: "idle 60 min" }]);
    assert.deepEqual(decide(policy, [node(1, { deployments: 3, usedCru: 16 }), node(2)], mem, NOW, { wakeFast: true }), [{ kind: "off", nodeId: 2, reason: "idle 60 min" }],
      "a full node is no reason to keep an idle one: the next deploy wakes one on demand");
  });

  test("a spare of spareCorePercent of the farm's vCPUs stays free on awake nodes, fast wakes or not", () => {
    // 4 nodes x 16 vCPUs: 10% = 6.4 vCPUs kept free
    const spare = parseFarmerPolicy({ farmId: 1, minAwakeNodes: 1, idleMinutes: 0, spareCorePercent: 10 });
    const down = (id: number) => node(id, { state: "down", target: "down" });
    for (const wakeFast of [false, true]) {
      // 12 of 16 used on the one awake node: 4 free < 6.4: one more node is woken (one is enough)
      assert.deepEqual(decide(spare, [node(1, { deployments: 3, usedCru: 12 }), down(2), down(3), down(4)], new Map(), NOW, { wakeFast }),
        [{ kind: "wake", nodeId: 2, reason: "capacity" }]);
      // a waking node counts whole: nothing more to wake
      const waking = new Map<number, NodeMemory>([[2, { wakingSince: NOW - 10, lastWolAt: NOW - 10, wakeReason: "capacity" }]]);
      assert.deepEqual(decide(spare, [node(1, { deployments: 3, usedCru: 12 }), down(2), down(3), down(4)], waking, NOW, { wakeFast }), []);
      // an idle node that is the spare stays; one beyond the spare goes
      const mem = new Map([[2, idleFor(5)], [3, idleFor(9)]]);
      assert.deepEqual(decide(spare, [node(1, { deployments: 3, usedCru: 12 }), node(2), down(4)], mem, NOW, { wakeFast }), []);
      assert.deepEqual(decide(spare, [node(1, { deployments: 3, usedCru: 12 }), node(2), node(3), down(4)], mem, NOW, { wakeFast }), [{ kind: "off", nodeId: 3, reason: "idle 9 min" }]);
    }
    // 0 (the default): no spare
    assert.equal(parseFarmerPolicy({ farmId: 1 }).spareCorePercent, 0);
    assert.throws(() => parseFarmerPolicy({ farmId: 1, spareCorePercent: 120 }), /spareCorePercent/);
  });

  test("repairs after a crash mid-action: target left down on a busy node, target up on a node nobody wakes", () => {
    assert.deepEqual(decide(policy, [node(1, { target: "down", deployments: 1 }), node(2, { state: "down", target: "up" })], new Map(), NOW),
      [{ kind: "target-up", nodeId: 1 }, { kind: "wake", nodeId: 2, reason: "repair" }]);
  });

  test("predictive wake: a projected load past forecastFillPercent of the awake vCPUs wakes one node ahead, once, and keeps idle nodes on", () => {
    const fp = parseFarmerPolicy({ farmId: 1, minAwakeNodes: 1, idleMinutes: 0, fastWakeSeconds: 60, forecastMinutes: 3, forecastFillPercent: 90 });
    const down = (id: number) => node(id, { state: "down", target: "down" });
    const nodes = [node(1, { deployments: 3, usedCru: 12 }), down(2), down(3)];
    // 12 of 16 used: fits now (wakeFast: no headroom), but 15 projected > 90% of 16 -> wake node 2.
    assert.deepEqual(decide(fp, nodes, new Map(), NOW, { wakeFast: true }), []);
    assert.deepEqual(decide(fp, nodes, new Map(), NOW, { wakeFast: true, forecastUsedCru: 15 }), [{ kind: "wake", nodeId: 2, reason: "forecast" }]);
    assert.deepEqual(decide(fp, nodes, new Map(), NOW, { wakeFast: true, forecastUsedCru: 14 }), [], "14 <= 14.4: no wake");
    // One forecast wake at a time: node 2 waking for it, nothing more.
    const waking = new Map<number, NodeMemory>([[2, { wakingSince: NOW - 30, lastWolAt: NOW - 30, wakeReason: "forecast" }]]);
    assert.deepEqual(decide(fp, nodes, waking, NOW, { wakeFast: true, forecastUsedCru: 40 }), []);
    // An idle node stays on while the projection needs it, goes once it does not.
    const withIdle = [node(1, { deployments: 3, usedCru: 12 }), node(2), down(3)];
    const idle = new Map([[2, idleFor(5)]]);
    assert.deepEqual(decide(fp, withIdle, idle, NOW, { wakeFast: true, forecastUsedCru: 15 }), []);
    assert.deepEqual(decide(fp, withIdle, idle, NOW, { wakeFast: true }), [{ kind: "off", nodeId: 2, reason: "idle 5 min" }]);
  });
});

describe("consolidation by consent (vacate)", () => {
  // Slow wakes: the wake threshold is wakeAtUsedPercent (80); 16 vCPUs a node.
  const cp = parseFarmerPolicy({ farmId: 1, minAwakeNodes: 1, idleMinutes: 30, wakeAtUsedPercent: 80 });
  /** An up node holding `used / 2` deployments of 2 vCPUs, all movable unless `o` says otherwise. */
  const vm = (id: number, used: number, o: Partial<NodeView> = {}) => node(id, { deployments: used / 2, movable: used / 2, usedCru: used, ...o });
  const vacates = (actions: ReturnType<typeof decide>) => actions.filter((a) => a.kind === "vacate").map((a) => a.nodeId);
  const down = (id: number) => node(id, { state: "down", target: "down" });
  const vacatingFor = (minutes: number, o: NodeMemory = {}): NodeMemory => ({ vacatingSince: NOW - minutes * 60, ...o });

  test("the least used all-movable node is vacated when the other up nodes take its load below the wake threshold; one at a time", () => {
    // node 3's 4 vCPUs onto nodes 1 + 2: 18 of 32 = 56% <= 80%
    const actions = decide(cp, [vm(1, 8), vm(2, 6), vm(3, 4)], new Map(), NOW);
    assert.deepEqual(actions.map((a) => a.kind), ["vacate"]);
    assert.deepEqual(vacates(actions), [3]);
    assert.match((actions[0] as { reason: string }).reason, /4 of 16 vCPUs used, all 2 deployments movable.*18 of 32/);
    assert.deepEqual(vacates(decide(cp, [vm(1, 2), vm(2, 2), vm(3, 2), vm(4, 2)], new Map(), NOW)), [1], "one node, the least used (then the lowest id)");
  });

  test("it does not fire when the load does not fit, above consolidateBelowPercent, or with consolidate off", () => {
    // node 2's 6 vCPUs onto node 1: 14 of 16 = 87.5% > 80% (and node 1's 8 onto node 2: the same)
    assert.deepEqual(decide(cp, [vm(1, 8), vm(2, 6)], new Map(), NOW), []);
    // a standby node is no room for a move (a move never wakes a node)
    assert.deepEqual(vacates(decide(cp, [vm(1, 4), vm(2, 12), down(3)], new Map(), NOW)), []);
    // fast wakes: the threshold is 100%, so 14 of 16 fits
    assert.deepEqual(vacates(decide(cp, [vm(1, 8), vm(2, 6)], new Map(), NOW, { wakeFast: true })), [2]);
    const capped = parseFarmerPolicy({ farmId: 1, consolidateFillPercent: 80 });
    assert.deepEqual(vacates(decide(capped, [vm(1, 8), vm(2, 6)], new Map(), NOW, { wakeFast: true })), [], "consolidateFillPercent 80: 87.5% is too full");
    const below = (pct: number) => parseFarmerPolicy({ farmId: 1, consolidateBelowPercent: pct });
    assert.deepEqual(vacates(decide(below(25), [vm(1, 6), vm(2, 4), vm(3, 2)], new Map(), NOW)), [3]);
    assert.deepEqual(vacates(decide(below(10), [vm(1, 6), vm(2, 4), vm(3, 2)], new Map(), NOW)), [], "2 of 16 = 12.5% > 10%");
    assert.deepEqual(vacates(decide(parseFarmerPolicy({ farmId: 1, consolidate: false }), [vm(1, 8), vm(2, 6), vm(3, 4)], new Map(), NOW)), []);
    assert.equal(parseFarmerPolicy({ farmId: 1 }).consolidate, true);
  });

  test("never a rented node, one with a deployment that is not movable, one that did not say, or one that did not answer", () => {
    for (const least of [{ rented: true }, { movable: 0 }, { movable: undefined }, { deployments: 2, movable: 1 }, { deployments: undefined }]) {
      // node 2 is the least used; node 3 would be next: it is the one vacated
      assert.deepEqual(vacates(decide(cp, [vm(1, 6), vm(2, 2, least), vm(3, 4)], new Map(), NOW)), [3], JSON.stringify(least));
    }
  });

  test("none while another node is vacating, and none that would break the floor or the forecast", () => {
    const mem = new Map([[1, vacatingFor(2)]]);
    assert.deepEqual(decide(cp, [vm(1, 2, { target: "down" }), vm(2, 4), vm(3, 4)], mem, NOW), [], "node 1 vacating: no other vacate, no repair");
    assert.deepEqual(decide(parseFarmerPolicy({ farmId: 1, minAwakeNodes: 2 }), [vm(1, 2), vm(2, 2)], new Map(), NOW), []);
    assert.deepEqual(vacates(decide(parseFarmerPolicy({ farmId: 1, minAwakeNodes: 1 }), [vm(1, 2), vm(2, 2)], new Map(), NOW)), [1]);
    const fp = parseFarmerPolicy({ farmId: 1, forecastMinutes: 3, forecastFillPercent: 90 });
    assert.deepEqual(vacates(decide(fp, [vm(1, 2), vm(2, 4)], new Map(), NOW, { forecastUsedCru: 14 })), [1], "14 <= 14.4 on node 2 alone");
    assert.deepEqual(vacates(decide(fp, [vm(1, 2), vm(2, 4)], new Map(), NOW, { forecastUsedCru: 15 })), []);
    const sp = parseFarmerPolicy({ farmId: 1, spareCorePercent: 25 }); // 8 of 32 vCPUs kept free
    assert.deepEqual(vacates(decide(sp, [vm(1, 2), vm(2, 6)], new Map(), NOW)), [1], "16 - 8 = 8 free: the spare holds");
    assert.deepEqual(vacates(decide(sp, [vm(1, 2), vm(2, 8)], new Map(), NOW)), [], "16 - 10 = 6 free < 8");
  });

  test("while vacating the repair does not raise the target; once empty it is powered off at once", () => {
    const busyVacating = vm(1, 2, { target: "down" });
    assert.deepEqual(decide(cp, [busyVacating, vm(2, 4)], new Map([[1, vacatingFor(5)]]), NOW), []);
    assert.deepEqual(decide(cp, [busyVacating, vm(2, 4)], new Map(), NOW), [{ kind: "target-up", nodeId: 1 }], "not vacating: the repair");
    const empty = node(1, { target: "down", deployments: 0, movable: 0 });
    assert.deepEqual(decide(cp, [empty, vm(2, 4)], new Map([[1, vacatingFor(5, { idleSince: NOW - 30 })]]), NOW), [{ kind: "off", nodeId: 1, reason: "vacated in 5 min" }],
      "30 s idle, idleMinutes 30: no wait");
  });

  test("a vacating node gives up after vacateTimeoutMinutes, when a deployment that is not movable landed, or when rented; and is left alone as long", () => {
    const giveUp = (n: NodeView, minutes: number) => decide(cp, [n, vm(2, 4)], new Map([[1, vacatingFor(minutes)]]), NOW);
    assert.deepEqual(giveUp(vm(1, 2, { target: "down" }), 29), []);
    assert.deepEqual(giveUp(vm(1, 2, { target: "down" }), 31), [{ kind: "target-up", nodeId: 1, reason: "not empty after 31 min" }]);
    assert.deepEqual(giveUp(vm(1, 4, { target: "down", movable: 1 }), 1), [{ kind: "target-up", nodeId: 1, reason: "1 deployment(s) not movable" }]);
    assert.deepEqual(giveUp(vm(1, 2, { target: "down", rented: true }), 1), [{ kind: "target-up", nodeId: 1, reason: "rented while vacating" }]);
    assert.equal(vacateFailure(cp, vm(1, 2, { deployments: undefined }), 60), undefined, "no answer: wait (the timeout still holds)");
    // Gave up 10 min ago: not vacated again yet; 31 min ago: again.
    const pinned = vm(2, 4, { movable: 0 });
    assert.deepEqual(vacates(decide(cp, [vm(1, 2), pinned], new Map([[1, { vacateGaveUpAt: NOW - 600 }]]), NOW)), []);
    assert.deepEqual(vacates(decide(cp, [vm(1, 2), pinned], new Map([[1, { vacateGaveUpAt: NOW - 31 * 60 }]]), NOW)), [1]);
  });

  test("an emptied vacating node the rules need awake is offered to deploys again", () => {
    const two = parseFarmerPolicy({ farmId: 1, minAwakeNodes: 2 });
    const empty = node(1, { target: "down", deployments: 0 });
    assert.deepEqual(decide(two, [empty, down(2)], new Map([[1, vacatingFor(3)]]), NOW),
      [{ kind: "wake", nodeId: 2, reason: "minimum" }, { kind: "target-up", nodeId: 1, reason: "emptied, but needed awake" }]);
  });

  test("a vacating node's vCPUs are no capacity: its load left on the others wakes a node past the threshold", () => {
    // 12 used of 16 on node 2, node 1 (vacating) holds 2: 14 of 16 = 87.5% > 80% -> wake node 3
    assert.deepEqual(decide(cp, [vm(1, 2, { target: "down" }), vm(2, 12), down(3)], new Map([[1, vacatingFor(1)]]), NOW), [{ kind: "wake", nodeId: 3, reason: "capacity" }]);
  });
});
