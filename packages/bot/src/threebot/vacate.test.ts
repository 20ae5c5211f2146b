/**
 * A movable service's replica on a node its farm vacates (power target down on chain) is moved
 * make-before-break: whole reconcile passes over real buses and the real store, the node and the
 * SDK grid SIMULATED (inplace-fixture.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { openBotStore } from "./bot-store.ts";
import { inPlaceHarness as harness, service } from "./inplace-fixture.ts";
import { applyToStore } from "./threebot.ts";

test("a movable replica on a vacated node is re-placed elsewhere, and cancelled only once the new one is healthy", async (t) => {
  const h = await harness(t, true);
  const store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  applyToStore(store, { services: [service({ disks: [], movable: true, gateway: { name: "shop", port: 80 } })] });
  const s = store.services()[0]!;
  h.add("db_101", 11, 1, s);
  h.add("db_102", 12, 2, s);
  h.allowDeploys();
  const env = h.envOf(store, "r1");
  await h.pass(env);
  assert.deepEqual(h.calls.filter((c) => !c.startsWith("gateway")), [], "nothing to do while no node is vacated");

  h.power.set(2, { target: "down", state: "up" }); // the farmerbot vacates node 2
  const v1 = await h.pass(env);
  assert.equal(v1.replicas.find((r) => r.name === "db_102")!.vacating, true);
  assert.deepEqual(h.calls.filter((c) => !c.startsWith("gateway")), ["deploy db_1 on node 4 (movable)"], "a new replica first, carrying the consent");
  assert.equal(h.sim.get(12)!.cancelled, false, "the old one serves until the new one is healthy");
  assert.match(h.events.join("\n"), /placing replica db_1 on node 4 \(move: node 2 is vacated by its farm\)/);

  await h.pass(env); // db_1 reads "init" once (booting): still starting
  assert.equal(h.sim.get(12)!.cancelled, false);
  await h.pass(env); // db_1 healthy: db_102 leaves the gateway, then is cancelled
  assert.equal(h.sim.get(12)!.cancelled, true);
  assert.deepEqual(h.calls.filter((c) => !c.startsWith("gateway")), ["deploy db_1 on node 4 (movable)", "cancel db_102"]);
  const moved = h.calls.indexOf("gateway → db_101, db_1");
  assert.ok(moved >= 0 && moved < h.calls.indexOf("cancel db_102"), `the gateway moved to the new replica before the old one was cancelled: ${h.calls.join(" | ")}`);
  assert.match(h.events.join("\n"), /replica db_102 on node 2 \(contract 12\) cancelled: moved off node 2: its farm vacates it/);

  const before = h.calls.length;
  await h.pass(env);
  assert.equal(h.calls.filter((c) => !c.startsWith("gateway")).length, h.calls.slice(0, before).filter((c) => !c.startsWith("gateway")).length, "converged: no further deploy or cancel");
});

test("a service that did not consent is left on a vacated node", async (t) => {
  const h = await harness(t);
  const store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  applyToStore(store, { services: [service({ disks: [] })] });
  const s = store.services()[0]!;
  h.add("db_1", 11, 1, s);
  h.add("db_2", 12, 2, s);
  h.allowDeploys();
  h.power.set(2, { target: "down", state: "up" });
  const env = h.envOf(store, "r1");
  const v = await h.pass(env);
  await h.pass(env);
  assert.deepEqual(h.calls, [], "no deploy, no cancel");
  assert.equal(v.replicas.some((r) => r.vacating), false);
});
