// Rolling updates in place for services with disks: whole reconcile passes over real libp2p buses
// and the bot's real SQLite store (a file: reopened as after a SIGKILL). The node and the SDK grid
// are SIMULATED (labelled, see inplace-fixture.ts). The real `vms.update` (same contract, disks
// kept, the file on the disk still there) runs in packages/cli/src/cli.e2e.test.ts ("update back").
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { openBotStore } from "./bot-store.ts";
import { dropRowsOfRemovedServices } from "./contract-hygiene.ts";
import { disksOf, inPlaceHarness as harness, service } from "./inplace-fixture.ts";
import { LOST_KEPT_AFTER_FAILED_RESTORE_MS } from "./reconcile-service.ts";
import { BotDataLossError, canRollInPlace, rollbackSpec } from "./rolling-inplace.ts";
import { parseBotSpec, replicaHash } from "./service-spec.ts";
import { applyToStore } from "./threebot.ts";

test("a service with disks rolls in place, one replica at a time gated on health, disks and contracts kept; a failed new version rolls back in place", async (t) => {
  const { h, store, env, v1 } = await started(t);
  h.add("db_1", 11, 1, v1);
  h.add("db_2", 12, 2, v1);
  const before = disksOf(h);
  assert.equal((await h.pass(env)).action, "", "converged at v1");

  applyToStore(store, { services: [service({ flist: "http://127.0.0.1:1/app2.flist", disks: [{ name: "data", size: 16, mountpoint: "/data" }] })] });
  const v2 = replicaHash(store.services()[0]!);
  await h.pass(env);
  assert.deepEqual(h.calls, [`update db_1 → ${v2}`], "one replica (max_unavailable 1), the oldest, updated on its own contract");
  const view = await h.pass(env);
  assert.deepEqual(h.calls.length, 1, "the next one waits while db_1 boots");
  assert.equal(view.replicas.find((r) => r.name === "db_1")?.state, "starting");
  assert.match(view.replicas.find((r) => r.name === "db_1")?.message ?? "", /^updated in place \w+ → \w+, disks kept/, "zgrid bot status says why it is out");
  await h.pass(env);
  assert.deepEqual(h.calls, [`update db_1 → ${v2}`, `update db_2 → ${v2}`], "db_1 healthy at v2: db_2 goes next");
  await h.pass(env);
  const done = await h.pass(env);
  assert.ok(done.replicas.every((r) => r.hash === v2 && r.state === "healthy"), JSON.stringify(done.replicas));
  assert.deepEqual(disksOf(h), before, "same contracts, the data of version 1 still on the disks");
  assert.ok([...h.sim.values()].every((r) => r.disks[0]!.size === 16), "the disk grew in place");
  assert.deepEqual(store.inPlace(), [], "no update in flight");
  assert.ok(!h.calls.some((c) => /^(deploy|cancel)/.test(c)));

  // v3 fails its check: back to v2, in place; db_2 never touched
  applyToStore(store, { services: [service({ flist: "http://127.0.0.1:1/broken.flist", disks: [{ name: "data", size: 16, mountpoint: "/data" }] })] });
  const v3 = replicaHash(store.services()[0]!);
  h.calls.length = 0;
  await h.pass(env); // db_1 → v3
  await h.pass(env); // db_1 fails: rollback (desired = v2)
  assert.equal(replicaHash(store.services()[0]!), v2, "the previous spec is desired again");
  assert.ok(h.events.some((e) => /rollback: rolled back to the previous version \(in place, disks kept\): replica db_1 failed/.test(e)), h.events.join("\n"));
  await h.pass(env); // db_1 → v2 in place
  assert.deepEqual(store.inPlace().map((r) => [r.replica, r.from, r.to, r.rollback]), [["db_1", v3, v2, true]], "recorded as the rollback (a failed one is not rolled back again)");
  for (let i = 0; i < 3; i++) await h.pass(env);
  assert.deepEqual(h.calls, [`update db_1 → ${v3}`, `update db_1 → ${v2}`], "db_2 kept serving v2 throughout");
  assert.ok((await h.pass(env)).replicas.every((r) => r.hash === v2 && r.state === "healthy"));
  assert.deepEqual(disksOf(h), before, "old data intact after the rollback");
  assert.ok(!h.calls.some((c) => /^(deploy|cancel)/.test(c)));
});

test("SIGKILL between the chain's update and the node's: the restarted bot sees the level on the node and updates again, no duplicate, nothing cancelled", async (t) => {
  const h = await harness(t);
  let store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  applyToStore(store, { services: [service({ replicas: 1 })] });
  h.add("db_1", 11, 1, store.services()[0]!);
  applyToStore(store, { services: [service({ replicas: 1, flist: "http://127.0.0.1:1/app2.flist" })] });
  const v2 = replicaHash(store.services()[0]!);
  h.crash(true);
  void h.pass(h.envOf(store, "r1")); // never returns: the process "dies" inside the update
  for (let i = 0; i < 100 && h.sim.get(11)!.chainHash !== v2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.sim.get(11)!.chainHash, v2, "the chain says v2");
  assert.notEqual(h.sim.get(11)!.nodeHash, v2, "the node still runs v1");
  store.close(); // as after a SIGKILL: the DB reopened by a new run
  store = openBotStore(h.dbPath);
  assert.equal(store.inPlace()[0]?.to, v2, "the update was recorded before it was sent");
  h.crash(false);
  const env = h.envOf(store, "r2");
  await h.pass(env);
  assert.deepEqual(h.calls, [`update db_1 → ${v2}`]);
  await h.pass(env);
  await h.pass(env);
  assert.equal((await h.pass(env)).replicas[0]?.state, "healthy");
  assert.deepEqual(h.calls, [`update db_1 → ${v2}`], "idempotent: no second update once the node runs v2");
  assert.deepEqual(disksOf(h), ["db_1@11: written by db_1 at " + h.sim.get(11)!.data.split(" at ")[1]]);
});

test("a disk removed or made smaller is refused at apply, naming the disk, unless allowDataLoss; a shrinking replica is not rolled in place", async (t) => {
  const h = await harness(t);
  const store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  applyToStore(store, { services: [service({ disks: [{ name: "data", size: 8, mountpoint: "/data" }, { name: "logs", size: 4, mountpoint: "/logs" }] })] });
  const before = store.services()[0]!;
  assert.throws(() => applyToStore(store, { services: [service({ disks: [{ name: "data", size: 4, mountpoint: "/data" }] })] }),
    (e: unknown) => e instanceof BotDataLossError && e.exitCode === 2 && /service 'db': the update destroys disk\(s\) data \(shrinks 8 → 4 MiB; a disk only grows in place\), logs \(removed\)/.test(e.message) && /--allow-data-loss/.test(e.hint ?? ""));
  assert.deepEqual(store.services()[0], before, "nothing stored");
  assert.throws(() => applyToStore(store, { services: [], replace: true }), /service 'db': the update destroys disk\(s\) data \(removed\), logs \(removed\)/, "--replace would remove db and its disks");
  assert.equal(store.services().length, 1);
  applyToStore(store, { services: [service({ disks: [{ name: "data", size: 8, mountpoint: "/data" }, { name: "extra", size: 2, mountpoint: "/x" }, { name: "logs", size: 9, mountpoint: "/logs" }] })] });
  applyToStore(store, { services: [service({ disks: [{ name: "data", size: 4, mountpoint: "/data" }] })] }, { allowDataLoss: true });
  const shrunk = store.services()[0]!;
  assert.equal(shrunk.disks.length, 1);
  const replica = { disks: [{ name: "data", size: 8 }] } as Parameters<typeof canRollInPlace>[1];
  assert.equal(canRollInPlace(shrunk, replica), false, "opted in: replaced (today's surge path), not updated in place");
  assert.equal(canRollInPlace(parseBotSpec({ services: [service({ replicas: 1 })] }).services[0]!, replica), true);
  assert.equal(canRollInPlace(parseBotSpec({ services: [service({ public_ip: true })] }).services[0]!, { ...replica, publicIpWorkload: false }), false, "a public IP cannot be added in place");
  assert.throws(() => applyToStore(store, { services: [service({ public_ip: true, disks: [{ name: "data", size: 4, mountpoint: "/data" }] })] }), /data \(public_ip added: the replicas are replaced\)/);
  assert.equal(canRollInPlace(parseBotSpec({ services: [service({ disks: [] })] }).services[0]!, replica), false, "no disks: today's behaviour");
  // a rollback never shrinks nor drops a disk the failed version grew or added
  const back = rollbackSpec(parseBotSpec({ services: [service()] }).services[0]!, parseBotSpec({ services: [service({ disks: [{ name: "data", size: 32, mountpoint: "/data" }, { name: "new", size: 1, mountpoint: "/n" }] })] }).services[0]!);
  assert.deepEqual(back.disks.map((d) => `${d.name}:${d.size}`), ["data:32", "new:1"]);
});

test("a restore that failed for good neither blocks the rolling update nor keeps the lost replica's contract forever; rows of a removed service go", async (t) => {
  const { h, store, env, v1 } = await started(t);
  h.add("db_1", 11, 1, v1); // lost with node 1
  h.add("db_2", 12, 2, v1);
  h.add("db_3", 13, 3, v1); // db_1's replacement, its restore failed for good (kept stopped)
  h.dead.add(1);
  store.planRestore({ service: "db", replica: "db_3", disk: "data", source: "db_1", manifest: "ab".repeat(32), takenAt: 5 });
  store.setRestore("db", "db_3", "data", { state: "failed", attempts: 6, error: "hub: manifest not found" }, 1_000_000_000);
  applyToStore(store, { services: [service({ flist: "http://127.0.0.1:1/app2.flist" })] });
  const v2 = replicaHash(store.services()[0]!);
  await h.pass(env);
  assert.deepEqual(h.calls, [`update db_2 → ${v2}`], "db_2 rolls although db_3 is held; db_3 is not rolled (its data is not there), nothing placed");
  assert.equal(h.sim.get(11)!.cancelled, false, "the lost replica's contract is kept a while (its node may come back with the disk)");
  await h.pass(env); // db_2 boots
  assert.equal((await h.pass(env)).replicas.find((r) => r.name === "db_2")?.state, "healthy");
  h.advance(LOST_KEPT_AFTER_FAILED_RESTORE_MS);
  await h.pass(env);
  assert.equal(h.sim.get(11)!.cancelled, true, `given up after the window: ${h.events.join("\n")} ${JSON.stringify(store.restores())}`);
  assert.equal(h.sim.get(13)!.cancelled, false, "the held replica is kept");

  store.putInPlace({ contractId: 12, service: "db", replica: "db_2", from: "a", to: "b", rollback: false, at: 1 });
  store.planRestore({ service: "web", replica: "web_2", disk: "data", source: "web_1", manifest: "cd".repeat(32), takenAt: 5 });
  assert.deepEqual(dropRowsOfRemovedServices(env, ["db", "web"]), [], "desired services keep their rows");
  store.removeService("db");
  assert.deepEqual(dropRowsOfRemovedServices(env, ["web"]), ["db"]);
  assert.deepEqual([store.restores().map((r) => r.replica), store.inPlace()], [["web_2"], []], "db's restore and update rows are gone, web's kept");
});

test("a replica whose node is only suspect is neither replaced by an empty one nor rolled; it is updated in place once it answers", async (t) => {
  const h = await harness(t);
  const store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  const env = h.envOf(store, "r1");
  applyToStore(store, { services: [service()] });
  h.add("db_1", 11, 1, store.services()[0]!);
  h.add("db_2", 12, 2, store.services()[0]!);
  applyToStore(store, { services: [service({ flist: "http://127.0.0.1:1/app2.flist" })] });
  const v2 = replicaHash(store.services()[0]!);
  h.silent.add(12);
  for (let i = 0; i < 4; i++) await h.pass(env);
  assert.deepEqual(h.calls, [`update db_1 → ${v2}`], "no new replica with an empty disk for db_2");
  h.silent.delete(12);
  for (let i = 0; i < 3; i++) await h.pass(env);
  assert.deepEqual(h.calls, [`update db_1 → ${v2}`, `update db_2 → ${v2}`]);
  assert.ok((await h.pass(env)).replicas.every((r) => r.hash === v2 && r.state === "healthy"));
});

test("behind a gateway: each replica is taken out of the gateway before its in-place update and put back once healthy, one at a time", async (t) => {
  const h = await harness(t, true);
  const store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  const env = h.envOf(store, "r1");
  applyToStore(store, { services: [service({ gateway: { name: "shop" } })] });
  h.add("db_1", 11, 1, store.services()[0]!);
  h.add("db_2", 12, 2, store.services()[0]!);
  await h.pass(env);
  assert.deepEqual(h.calls, ["gateway → db_1, db_2"]);
  applyToStore(store, { services: [service({ gateway: { name: "shop" }, flist: "http://127.0.0.1:1/app2.flist" })] });
  const v2 = replicaHash(store.services()[0]!);
  for (let i = 0; i < 7; i++) await h.pass(env);
  assert.deepEqual(h.calls, [
    "gateway → db_1, db_2",
    "gateway → db_2", `update db_1 → ${v2}`, // out first (drained), then updated: db_2 serves meanwhile
    "gateway → db_1", `update db_2 → ${v2}`, // db_1 healthy: back in, and db_2 out, in one re-point (never an empty gateway)
    "gateway → db_1, db_2",
  ]);
  assert.ok(!h.calls.some((c) => /^(deploy|cancel)/.test(c)));
});

test("behind a gateway: a replica leaves the gateway, then is updated only once drained (drainMs), as a retired replica", async (t) => {
  const h = await harness(t, true);
  const store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  const env = { ...h.envOf(store, "r1"), drainMs: 5_000 };
  applyToStore(store, { services: [service({ gateway: { name: "shop" } })] });
  h.add("db_1", 11, 1, store.services()[0]!);
  h.add("db_2", 12, 2, store.services()[0]!);
  await h.pass(env);
  applyToStore(store, { services: [service({ gateway: { name: "shop" }, flist: "http://127.0.0.1:1/app2.flist" })] });
  await h.pass(env);
  await h.pass(env);
  assert.deepEqual(h.calls, ["gateway → db_1, db_2", "gateway → db_2"], "out of the gateway, still draining: not updated yet");
  h.advance(5_000);
  await h.pass(env);
  assert.deepEqual(h.calls.slice(2), [`update db_1 → ${replicaHash(store.services()[0]!)}`]);
});

test("an in-place update the node refuses rolls the service back (as a surge deploy that fails does); the data stays", async (t) => {
  const h = await harness(t);
  const store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  const env = h.envOf(store, "r1");
  applyToStore(store, { services: [service()] });
  const v1 = replicaHash(store.services()[0]!);
  h.add("db_1", 11, 1, store.services()[0]!);
  h.add("db_2", 12, 2, store.services()[0]!);
  const before = disksOf(h);
  applyToStore(store, { services: [service({ memory: 4096 })] });
  h.refuse(true);
  await h.pass(env);
  assert.equal(replicaHash(store.services()[0]!), v1, "back to v1");
  assert.ok(h.events.some((e) => /rollback: .*the in-place update of db_1 failed/.test(e)), h.events.join("\n"));
  h.refuse(false);
  const view = await h.pass(env);
  assert.ok(view.replicas.every((r) => r.hash === v1 && r.state === "healthy"), "the node still runs v1 (its own metadata), nothing to do");
  assert.deepEqual(h.calls, [], "the refused update is not retried, nothing placed or cancelled");
  assert.deepEqual(disksOf(h), before);
});

/** The harness, the bot's store (closed after the test), run r1's env and the service applied at v1. */
async function started(t: TestContext) {
  const h = await harness(t);
  const store = openBotStore(h.dbPath);
  t.after(async () => store.close());
  const env = h.envOf(store, "r1");
  applyToStore(store, { services: [service()] });
  return { h, store, env, v1: store.services()[0]! };
}
