// The Farmerbot's bookkeeping against an in-memory farm (the chain and the nodes are plain objects
// here; the real chain and nodes run in farmerbot.e2e.test.ts and bench/green/farm-day.ts).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createLogger } from "@zgrid/log";
import { parseFarmerPolicy } from "./farmer-policy.ts";
import { openFarmerState } from "./farmer-state.ts";
import { DEMAND_RESEND_SECONDS, Farmerbot, type FarmerChain, type FarmerNodes } from "./farmerbot.ts";

interface FakeNode { id: number; up: boolean; target: boolean; changedAt: number; deployments: number; usedCru: number; movable?: number }

function farm(count: number, now: () => number) {
  const nodes: FakeNode[] = Array.from({ length: count }, (_, i) => ({ id: i + 1, up: true, target: true, changedAt: 0, deployments: 0, usedCru: 0 }));
  const chain: FarmerChain = {
    nodeCount: async () => nodes.length,
    getNode: async (id) => {
      const n = nodes[id - 1]!;
      return { id, farmId: 1, twinId: 100 + id, interfaces: [{ name: "eth0", mac: `02:00:00:00:00:0${id}` }], resources: { cru: 16n },
        lastUptimeReport: BigInt(now()), power: { target: n.target ? "up" : "down", state: n.up ? "up" : "down", changedAt: BigInt(n.changedAt) } };
    },
    rentContractOf: async () => 0,
    setPowerTarget: async (id, up) => { nodes[id - 1]!.target = up; },
  };
  return { nodes, chain };
}

const policy = (o: object = {}) => parseFarmerPolicy({ farmId: 1, minAwakeNodes: 0, idleMinutes: 0, periodSeconds: 60, ...o });

describe("farmerbot bookkeeping", () => {
  test("wake latency is the node's own 'up' on chain, and fast wakes turn the spare capacity off", async () => {
    let t = 10_000;
    const { nodes, chain } = farm(2, () => t);
    const sent: string[] = [];
    const fakeNodes: FarmerNodes = {
      statistics: async (twin) => ({ deployments: nodes[twin - 101]!.deployments, usedCru: nodes[twin - 101]!.usedCru }),
      powerOff: async (twin) => { const n = nodes[twin - 101]!; n.up = false; n.changedAt = t; },
    };
    const bot = new Farmerbot({ policy: policy({ fastWakeSeconds: 120 }), chain, nodes: fakeNodes, wol: { send: async (mac) => { sent.push(mac); } },
      state: openFarmerState(undefined), log: createLogger("farmerbot", { level: "silent" }), now: () => t });
    const wakeNode2 = async () => {
      t += 10;
      await bot.wake(2);
      nodes[1]!.up = true; nodes[1]!.changedAt = t + 90; // the node says "up" 90 s after the packet…
      t += 300;                                            // …the bot sees it 300 s later
      await bot.tick();
    };
    Object.assign(nodes[0]!, { deployments: 1, usedCru: 15 });
    await bot.tick();
    assert.equal(nodes[1]!.up, true, "node 1 is 94% full: the idle node 2 is kept as the spare (no wake measured yet)");
    nodes[0]!.usedCru = 1;
    for (let i = 0; i < 3; i++) {
      assert.equal(bot.wakeFast(), false, "fewer than 3 wakes measured: not fast yet");
      await bot.tick(); // node 2 idle, node 1 light: off
      assert.equal(nodes[1]!.up, false);
      await wakeNode2();
    }
    assert.deepEqual(bot.status().wakeLatency, { count: 3, p50: 90, p99: 90 });
    assert.equal(bot.wakeFast(), true);
    nodes[0]!.usedCru = 15;
    await bot.tick();
    assert.equal(nodes[1]!.up, false, "node 1 is 94% full, yet the idle node 2 went: a demand wake takes 90 s");
    assert.equal(sent.length, 3);
  });

  test("a demand wake asked again for a node still waking sends another magic packet, at most one per DEMAND_RESEND_SECONDS", async () => {
    let t = 20_000;
    const { nodes, chain } = farm(1, () => t);
    nodes[0]!.up = false;
    nodes[0]!.target = false;
    const sent: number[] = [];
    const fakeNodes: FarmerNodes = { statistics: async () => undefined, powerOff: async () => undefined };
    const bot = new Farmerbot({ policy: policy({ wakeTimeoutSeconds: 600 }), chain, nodes: fakeNodes, wol: { send: async () => { sent.push(t); } },
      state: openFarmerState(undefined), log: createLogger("farmerbot", { level: "silent" }), now: () => t });
    assert.deepEqual(await bot.wake(1), { node_id: 1, state: "waking" });
    t += DEMAND_RESEND_SECONDS - 1;
    await bot.wake(1); // a loop of requests sends nothing more within the period
    assert.deepEqual(sent, [20_000]);
    t += 1;
    assert.deepEqual(await bot.wake(1), { node_id: 1, state: "waking" });
    assert.deepEqual(sent, [20_000, 20_000 + DEMAND_RESEND_SECONDS], "the first packet may have reached a machine still shutting down");
    nodes[0]!.up = true;
    assert.deepEqual(await bot.wake(1), { node_id: 1, state: "up" });
    assert.equal(sent.length, 2, "an up node gets no packet");
  });

  test("a node woken before any pass saw it off carries no stale power-off: it can be vacated later", async () => {
    let t = 30_000;
    const { nodes, chain } = farm(2, () => t);
    Object.assign(nodes[0]!, { deployments: 1, usedCru: 1 });
    const fakeNodes: FarmerNodes = {
      statistics: async (twin) => { const n = nodes[twin - 101]!; return { deployments: n.deployments, usedCru: n.usedCru, movable: n.movable ?? 0 }; },
      powerOff: async (twin) => { const n = nodes[twin - 101]!; n.up = false; n.changedAt = t; },
    };
    const bot = new Farmerbot({ policy: policy({ wakeAtUsedPercent: 100 }), chain, nodes: fakeNodes, wol: { send: async () => undefined },
      state: openFarmerState(undefined), log: createLogger("farmerbot", { level: "silent" }), now: () => t });
    assert.deepEqual((await bot.tick()).map((a) => a.kind), ["off"], "node 2 idle: powered off");
    t += 5;
    await bot.wake(2); // a deploy wants it before any pass saw it down
    nodes[1]!.up = true;
    Object.assign(nodes[1]!, { deployments: 1, usedCru: 1, movable: 1 });
    t += 60;
    assert.deepEqual((await bot.tick()).filter((a) => a.kind === "vacate").map((a) => a.nodeId), [2], "all movable, node 1 takes it");
  });

  test("a node's own durations replace the bot's; the bot only adds the time since (a standby node cannot answer)", async () => {
    let t = 50_000;
    const { nodes, chain } = farm(1, () => t);
    const reported = { onSeconds: 7_000, offSeconds: 30_000, reservedCoreSeconds: 14_000, wakes: 4, offs: 4 };
    const fakeNodes: FarmerNodes = {
      statistics: async () => ({ deployments: 1, usedCru: 2 }),
      powerOff: async () => undefined,
      durations: async () => reported,
    };
    const bot = new Farmerbot({ policy: policy(), chain, nodes: fakeNodes, wol: { send: async () => undefined }, state: openFarmerState(undefined), log: createLogger("farmerbot", { level: "silent" }), now: () => t });
    await bot.tick();
    assert.deepEqual({ ...bot.status().nodes[0]!.ledger }, { ...bot.status().nodes[0]!.ledger, ...reported, source: "node" });
    Object.assign(nodes[0]!, { up: false, target: false });
    t += 600;
    await bot.tick();
    const l = bot.status().nodes[0]!.ledger;
    assert.equal(l.onSeconds, 7_000 + 600, "on until the bot saw it down");
    assert.equal(l.offSeconds, 30_000);
    t += 1_000;
    await bot.tick();
    assert.equal(bot.status().nodes[0]!.ledger.offSeconds, 31_000);
  });

  test("the forecast is the trend of the farm's used vCPUs over the window, only when rising, and wakes a node ahead of a ramp", async () => {
    let t = 50_000;
    const { nodes, chain } = farm(3, () => t);
    nodes[1]!.up = false; nodes[1]!.target = false;
    nodes[2]!.up = false; nodes[2]!.target = false;
    nodes[0]!.deployments = 1;
    const woken: string[] = [];
    const fakeNodes: FarmerNodes = {
      statistics: async (twin) => ({ deployments: nodes[twin - 101]!.deployments, usedCru: nodes[twin - 101]!.usedCru }),
      powerOff: async () => { throw new Error("not in this test"); },
    };
    const bot = new Farmerbot({ policy: policy({ minAwakeNodes: 1, fastWakeSeconds: 600, forecastMinutes: 5, forecastWindowMinutes: 5, forecastFillPercent: 90 }), chain, nodes: fakeNodes,
      wol: { send: async (mac) => { woken.push(mac); } }, state: openFarmerState(undefined), log: createLogger("farmerbot", { level: "silent" }), now: () => t });
    // A flat load: no forecast, whatever the history.
    for (let i = 0; i < 8; i++, t += 60) { nodes[0]!.usedCru = 8; await bot.tick(); }
    assert.equal(bot.forecast(), undefined);
    // Rising 1 vCPU a minute from 8: after 6 passes the window (5 min) holds 9..13, slope 1/60 per s: 13 + 5 min -> 18 > 14.4 (90% of 16).
    const actions = [];
    for (let i = 0; i < 6; i++, t += 60) { nodes[0]!.usedCru = 8 + i; actions.push(...(await bot.tick())); }
    assert.ok(Math.abs(bot.forecast()! - (13 + 5)) < 0.5, `forecast ${bot.forecast()}`);
    assert.deepEqual(actions.filter((a) => a.kind === "wake"), [{ kind: "wake", nodeId: 2, reason: "forecast" }], "one node woken ahead, none else");
    assert.deepEqual(woken, ["02:00:00:00:00:02"]);
    // Falling again: no forecast.
    for (let i = 0; i < 8; i++, t += 60) { nodes[0]!.usedCru = 13 - i; await bot.tick(); }
    assert.equal(bot.forecast(), undefined);
  });
});

describe("farmerbot consolidation (vacate)", () => {
  /** 3 up nodes of 16 vCPUs: node 1 holds 8 vCPUs, node 2 six, node 3 four in two movable deployments. */
  function movableFarm(t: () => number, stateFile?: string) {
    const { nodes, chain } = farm(3, t);
    Object.assign(nodes[0]!, { deployments: 4, usedCru: 8 });
    Object.assign(nodes[1]!, { deployments: 3, usedCru: 6 });
    Object.assign(nodes[2]!, { deployments: 2, usedCru: 4, movable: 2 });
    const offs: number[] = [];
    const fakeNodes: FarmerNodes = {
      statistics: async (twin) => { const n = nodes[twin - 101]!; return { deployments: n.deployments, usedCru: n.usedCru, ...(n.movable !== undefined ? { movable: n.movable } : {}) }; },
      powerOff: async (twin) => { const n = nodes[twin - 101]!; if (n.deployments) throw new Error("holds deployments"); n.up = false; offs.push(n.id); },
    };
    const bot = (state = openFarmerState(stateFile)) => new Farmerbot({ policy: policy({ minAwakeNodes: 1, idleMinutes: 30 }), chain, nodes: fakeNodes, wol: { send: async () => undefined },
      state, log: createLogger("farmerbot", { level: "silent" }), now: t });
    return { nodes, bot, offs };
  }

  test("vacate: target down on chain, shown as vacating, no repair while its deployments move, powered off once empty", async () => {
    let t = 100_000;
    const { nodes, bot: make, offs } = movableFarm(() => t);
    const bot = make();
    assert.deepEqual((await bot.tick()).map((a) => [a.kind, a.nodeId]), [["vacate", 3]]);
    assert.equal(nodes[2]!.target, false, "target down on chain");
    assert.deepEqual(bot.status().nodes.map((n) => n.vacating), [false, false, true]);
    t += 60;
    assert.deepEqual(await bot.tick(), [], "busy and target down, yet no target-up: it is vacating");
    assert.equal(nodes[2]!.target, false);
    // the owners' 3bots moved both replicas
    Object.assign(nodes[2]!, { deployments: 0, usedCru: 0, movable: 0 });
    Object.assign(nodes[1]!, { deployments: 5, usedCru: 10 });
    t += 60;
    assert.deepEqual((await bot.tick()).map((a) => [a.kind, a.nodeId]), [["off", 3]], "empty: off at once, not after idleMinutes 30");
    assert.deepEqual(offs, [3]);
    t += 60;
    await bot.tick();
    assert.deepEqual(bot.status().nodes.map((n) => n.vacating), [false, false, false], "standby: no longer vacating");
  });

  test("a vacating node not emptied in vacateTimeoutMinutes gets its target back up, the reason is kept, and it is left alone as long", async () => {
    let t = 100_000;
    const { nodes, bot: make } = movableFarm(() => t);
    const bot = make();
    await bot.tick();
    assert.equal(nodes[2]!.target, false);
    t += 31 * 60;
    assert.deepEqual(await bot.tick(), [{ kind: "target-up", nodeId: 3, reason: "not empty after 31 min" }]);
    assert.equal(nodes[2]!.target, true);
    t += 60;
    assert.deepEqual(await bot.tick(), [], "gave up a minute ago: not vacated again");
    assert.equal(bot.status().nodes[2]!.vacating, false);
    t += 30 * 60;
    assert.deepEqual((await bot.tick()).map((a) => a.kind), ["vacate"]);
  });

  test("state files: one written before consolidation loads; a restart mid-vacate resumes from the file (no repair)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "farmer-state-"));
    try {
      let t = 100_000;
      const file = join(dir, "state.json");
      // As the bot wrote it before: no vacating fields.
      const ledger = { power: "on", at: t - 60, since: t - 3600, usedCru: 4, onSeconds: 3600, offSeconds: 0, reservedCoreSeconds: 14400, wakes: 0, offs: 0 };
      writeFileSync(file, JSON.stringify({ version: 1, nodes: { 1: { memory: { upSince: t - 3600 }, ledger }, 2: { memory: { upSince: t - 3600 }, ledger }, 3: { memory: { upSince: t - 3600 }, ledger } },
        wakeLatencies: [90, 95] }));
      const { nodes, bot: make } = movableFarm(() => t, file);
      const first = make();
      assert.deepEqual((await first.tick()).map((a) => [a.kind, a.nodeId]), [["vacate", 3]]);
      assert.equal(first.status().wakeLatency.count, 2, "the old file was loaded, not moved aside");
      const saved = JSON.parse(readFileSync(file, "utf8")) as { nodes: Record<string, { memory: { vacatingSince?: number } }> };
      assert.equal(saved.nodes["3"]!.memory.vacatingSince, t);
      // killed; a new bot reads the file: node 3 is still vacating, so its target stays down
      t += 60;
      const second = make(openFarmerState(file));
      assert.deepEqual(await second.tick(), []);
      assert.equal(nodes[2]!.target, false);
      assert.equal(second.status().nodes[2]!.vacating, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
