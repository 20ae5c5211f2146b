// NodeLiveness over a real libp2p bus: a node that answers stays alive; a slow answer is not a
// death; a node whose bus is stopped becomes dead only after the window and several failed
// probes, and only when it has not proven uptime since it went silent; an answer brings it back.
// (The chain's uptime report is given as a function here: the decision logic is under test.)
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { createBus, peerIdOfTwinKey, StaticTwinDirectory, type Bus } from "@zgrid/bus";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { NodeLiveness, type NodeState } from "./node-liveness.ts";

const key = () => twinKeyFromPrivateKey(`0x${randomBytes(32).toString("hex")}`);

async function pair(t: { after(fn: () => Promise<void>): void }) {
  const botKey = key();
  const nodeKey = key();
  const dir = new StaticTwinDirectory([
    { id: 1, account: botKey.address, peerId: peerIdOfTwinKey(botKey).toString(), addrs: [], relays: [] },
  ]);
  const node: Bus = await createBus({ key: nodeKey, twinId: 2, directory: dir, listen: ["/ip4/127.0.0.1/tcp/0"] });
  dir.set({ id: 2, account: nodeKey.address, peerId: peerIdOfTwinKey(nodeKey).toString(), addrs: node.addresses().map((a) => a.replace(/\/p2p\/.*$/, "")), relays: [] });
  const bot: Bus = await createBus({ key: botKey, twinId: 1, directory: dir, listen: [] });
  let delayMs = 0;
  node.handle("zos.system.version", async () => {
    await new Promise((r) => setTimeout(r, delayMs));
    return { zos: "test", zinit: "" };
  });
  t.after(async () => { await bot.stop(); await node.stop(); });
  return { bot, node, setDelay: (ms: number) => { delayMs = ms; } };
}

test("dead only after the window, several failed probes and no uptime proof since; back on an answer", async (t) => {
  const { bot, node, setDelay } = await pair(t);
  let uptimeAt = 0;
  const changes: NodeState[] = [];
  const l = new NodeLiveness({
    probe: (twin, ms) => bot.request(twin, "zos.system.version", {}, { timeout: ms }),
    lastUptimeReport: async () => uptimeAt,
    onChange: (_id, s) => changes.push(s),
  }, { windowMs: 3_000, probeIntervalMs: 200, probeTimeoutMs: 1_000, minFailedProbes: 3 });
  l.watch(7, 2);
  await bot.request(2, "zos.system.version", {}, { timeout: 10_000 }); // first connection (slow on a loaded machine)
  assert.equal(await l.probeOnce(7), "alive");

  // a slow answer (longer than the probe timeout) makes it suspect, never dead within the window
  setDelay(1_500);
  assert.equal(await l.probeOnce(7), "suspect");
  setDelay(0);
  assert.equal(await l.probeOnce(7), "alive");

  // silent: suspect until the window has passed with ≥ 3 failures
  node.unhandle("zos.system.version");
  const silentAt = Date.now();
  let state: NodeState = "alive";
  while (state !== "dead" && Date.now() - silentAt < 10_000) {
    state = await l.probeOnce(7);
    if (Date.now() - silentAt < 2_900) assert.notEqual(state, "dead", "not dead before the window");
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.equal(state, "dead");
  assert.ok(Date.now() - silentAt >= 3_000);

  // an uptime proof made after it went silent keeps it from being dead (chain is a second witness)
  uptimeAt = Math.ceil(Date.now() / 1000) + 1;
  assert.equal(await l.probeOnce(7), "suspect");
  uptimeAt = 0;
  assert.equal(await l.probeOnce(7), "dead");
  assert.deepEqual(l.dead(), [7]);

  // it answers again: alive
  node.handle("zos.system.version", () => ({ zos: "test", zinit: "" }));
  assert.equal(await l.probeOnce(7), "alive");
  assert.deepEqual(changes.filter((s, i) => s !== changes[i - 1]), changes, "changes are reported once each");
  assert.ok(changes.includes("dead") && changes.at(-1) === "alive");
  l.stop();
});
