// Restore at heal over a real node bus (the node's real disk write route, real engine store, real
// sparse disk file), a real hub and the bot's real store (a file: reopened as after a SIGKILL).
// The VM part is SIMULATED: the node's `zos.zmachine.action` is a recording handler (booting a
// QEMU VM needs the VM lock); it answers like vm-control and records stop/start in order.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nodeClient, type Grid } from "@zgrid/client";
import { NODE_ROUTES } from "@zgrid/types";
import { openBotStore, type BotStore } from "../bot-store.ts";
import type { BotEnv, Replica } from "../observe.ts";
import { parseBotSpec } from "../service-spec.ts";
import { backupTestNode } from "./backup-node-fixture.ts";
import { backupNodeDisk } from "./disk-backup.ts";
import { healSources, holdRestoring, planHealRestore, restoreBackoffMs, restoreRunner, RESTORE_MAX_ATTEMPTS } from "./heal-restore.ts";

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const n = await backupTestNode(t);
  const actions: string[] = [];
  n.node.handle(NODE_ROUTES.vmAction.name, async (p: unknown) => {
    const r = p as { contract_id: number; name: string; action: string };
    actions.push(`${r.action} ${r.name}@${r.contract_id}`);
    return { log: "", offset: 0, size: 0, state: r.action === "stop" ? "stopped" : "running", reason: r.action === "stop" ? "stopped by the owner" : "" };
  });
  const dir = mkdtempSync(join(tmpdir(), "bot-heal-restore-"));
  t.after(async () => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, "3bot.db");
  const events: string[] = [];
  let now = Date.now();
  const envOf = (store: BotStore) => ({
    grid: { bus: async () => n.owner, key: n.ownerKey } as unknown as Grid,
    store, now: () => now, health: new Map(), startTimeoutMs: 180_000,
    log: (service: string, kind: string, message: string) => void events.push(`${service} ${kind}: ${message}`),
  }) as unknown as BotEnv;
  const [spec] = parseBotSpec({ services: [{ name: "db", flist: "busybox", disks: [{ name: "data", size: 8, mountpoint: "/data", backup: "1h" }] }] }).services;
  // db_1 (lost with its node) was backed up; db_2 is its replacement: here the same contract's disk,
  // filled with junk (a restore empties it first, so the backup's holes come back as zeros)
  const backup = await backupNodeDisk({ node: nodeClient(n.owner, n.node.twinId), contractId: 12, name: "data", hub: n.hub.url, key: n.ownerKey });
  const expected = n.content();
  writeFileSync(n.disk, Buffer.alloc(n.size, 0x33));
  const replica = (name: string, state: Replica["state"]): Replica => ({ name, contractId: 12, nodeId: 3, nodeTwinId: n.node.twinId, ip: "", hash: "", generation: Number(name.slice(3)), state, message: "" });
  const backupRecord = (store: BotStore) => store.putBackup({ service: "db", replica: "db_1", disk: "data", manifest: backup.manifest, takenAt: backup.takenAt, nodeId: 3, size: backup.size, uploadedBlocks: backup.uploadedBlocks });
  return { n, actions, dbPath, backupRecord, events, envOf, spec: spec!, backup, expected, replica, advance: (ms: number) => { now += ms; } };
}

test("a healed replica is held out of service until its disk holds the lost replica's last backup, then started; its data goes on to the next heal", async (t) => {
  const x = await setup(t);
  const store = openBotStore(x.dbPath);
  t.after(async () => store.close());
  const env = x.envOf(store);
  x.backupRecord(store);
  assert.deepEqual(planHealRestore(env, x.spec, "db_1", "db_2"), ["data"]);
  assert.deepEqual(store.restores().map((r) => [r.replica, r.source, r.state, r.manifest]), [["db_2", "db_1", "pending", x.backup.manifest]]);

  const lost = x.replica("db_1", "lost");
  const fresh = x.replica("db_2", "healthy");
  const ready = holdRestoring(env, x.spec, [lost, fresh]);
  assert.equal(fresh.state, "starting", "not served (no gateway, no backup of it, the lost one kept)");
  assert.match(fresh.message, /restoring disk\(s\) data from db_1's backup/);
  assert.equal(lost.state, "lost");
  assert.deepEqual([...ready.keys()], ["db_2"]);
  assert.deepEqual(healSources(env, x.spec, [lost], [fresh]), [], "db_1's data is already being taken over");

  const runner = restoreRunner(env, { hub: x.n.hub.url });
  const running = runner.tick(new Map([["db", ready]]));
  assert.ok(running, "the restore starts");
  await running;
  assert.deepEqual(x.actions, ["stop db_2@12", "start db_2@12"], "held stopped for the restore, started after");
  assert.ok(readFileSync(x.n.disk).equals(x.expected), "the new replica's disk is the lost one's backup, holes zero");
  assert.deepEqual(store.restores().map((r) => r.state), ["done"]);

  const again = x.replica("db_2", "healthy");
  assert.equal(holdRestoring(env, x.spec, [again]).size, 0);
  assert.equal(again.state, "healthy", "served once restored");

  // db_2 dies before its first backup: db_3 gets the same data (db_2's restore is what it holds)
  planHealRestore(env, x.spec, "db_2", "db_3");
  assert.equal(store.restores().find((r) => r.replica === "db_3")?.manifest, x.backup.manifest);
});

test("a backup missing from the hub is retried with a growing delay, bounded, the error surfaced; the replica stays stopped and out of service", async (t) => {
  const x = await setup(t);
  const store = openBotStore(x.dbPath);
  t.after(async () => store.close());
  const env = x.envOf(store);
  store.planRestore({ service: "db", replica: "db_2", disk: "data", source: "db_1", manifest: "ab".repeat(32), takenAt: 1 });
  const runner = restoreRunner(env, { hub: x.n.hub.url });
  for (let i = 1; i <= RESTORE_MAX_ATTEMPTS; i++) {
    const r = x.replica("db_2", "healthy");
    const ready = holdRestoring(env, x.spec, [r]);
    const p = runner.tick(new Map([["db", ready]]));
    assert.ok(p, `attempt ${i} starts`);
    await p;
    const row = store.restores()[0]!;
    assert.equal(row.attempts, i);
    assert.ok(row.error.length > 0, "the error is kept");
    assert.equal(runner.tick(new Map([["db", ready]])), undefined, "not again before its delay");
    x.advance(restoreBackoffMs(i));
  }
  const row = store.restores()[0]!;
  assert.equal(row.state, "failed");
  const r = x.replica("db_2", "healthy");
  const ready = holdRestoring(env, x.spec, [r]);
  assert.equal(r.state, "starting", "never served");
  assert.match(r.message, /restore FAILED after 6 attempts .*kept stopped so the old data is not dropped/);
  assert.equal(runner.tick(new Map([["db", ready]])), undefined, "no more attempts");
  assert.ok(x.actions.every((a) => a === "stop db_2@12"), `never started: ${x.actions.join(", ")}`);
  assert.ok(x.events.some((e) => /giving up: db_2 stays stopped/.test(e)));
  assert.ok(readFileSync(x.n.disk).equals(Buffer.alloc(x.n.size, 0x33)), "a backup that cannot be read writes nothing");

  // a restart of the bot gives a failed restore two more attempts
  restoreRunner(env, { hub: x.n.hub.url });
  assert.deepEqual(store.restores().map((r) => [r.state, r.attempts]), [["pending", RESTORE_MAX_ATTEMPTS - 2]]);
});

test("SIGKILL mid-restore: a restarted bot redoes the restore from the start; one killed after the writes only starts the VM", async (t) => {
  const x = await setup(t);
  const first = openBotStore(x.dbPath);
  const env1 = x.envOf(first);
  x.backupRecord(first);
  planHealRestore(env1, x.spec, "db_1", "db_2");
  // the first bot empties the disk, writes one junk block, and is killed (its promise never settles)
  const killed = restoreRunner(env1, {
    hub: x.n.hub.url,
    restore: async (o) => {
      await o.node.diskWrite({ contract_id: 12, name: "data", offset: 0, data: "", reset: true });
      await o.node.diskWrite({ contract_id: 12, name: "data", offset: 0, data: Buffer.alloc(4096, 0x55).toString("base64") });
      return new Promise(() => undefined);
    },
  });
  const r1 = x.replica("db_2", "healthy");
  void killed.tick(new Map([["db", holdRestoring(env1, x.spec, [r1])]]));
  for (let i = 0; i < 200 && readFileSync(x.n.disk)[0] !== 0x55; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(readFileSync(x.n.disk)[0], 0x55, "the first bot got as far as writing junk");
  first.close();

  const store = openBotStore(x.dbPath);
  t.after(async () => store.close());
  const env = x.envOf(store);
  assert.deepEqual(store.restores().map((r) => [r.state, r.attempts]), [["pending", 1]], "the plan survived the kill, the attempt counted");
  const r = x.replica("db_2", "starting");
  const ready = holdRestoring(env, x.spec, [r]);
  assert.ok(ready.has("db_2"));
  x.advance(restoreBackoffMs(1));
  await restoreRunner(env, { hub: x.n.hub.url }).tick(new Map([["db", ready]]));
  assert.ok(readFileSync(x.n.disk).equals(x.expected), "redone from the start: the backup exactly");
  assert.deepEqual(x.actions, ["stop db_2@12", "stop db_2@12", "start db_2@12"]);

  // killed after the writes, before the start: only the start is left
  store.setRestore("db", "db_2", "data", { state: "restored", attempts: 2, error: "" });
  x.actions.length = 0;
  x.advance(restoreBackoffMs(2));
  const again = x.replica("db_2", "failed");
  await restoreRunner(env, { hub: x.n.hub.url }).tick(new Map([["db", holdRestoring(env, x.spec, [again])]]));
  assert.deepEqual(x.actions, ["start db_2@12"], "the disk is not written again (the app's writes since are kept)");
  assert.deepEqual(store.restores().map((r) => r.state), ["done"]);
});

test("a restore row whose replica never came to exist (its deploy was cut by a crash) is dropped after the start window", async (t) => {
  const x = await setup(t);
  const store = openBotStore(x.dbPath);
  t.after(async () => store.close());
  const env = x.envOf(store);
  x.backupRecord(store);
  planHealRestore(env, x.spec, "db_1", "db_7");
  planHealRestore(env, x.spec, "db_1", "db_8");
  const db8 = x.replica("db_8", "starting");
  assert.equal(holdRestoring(env, x.spec, [db8]).size, 1);
  assert.equal(store.restores().length, 2, "kept within the start window (the deploy may still land)");
  x.advance(180_001);
  holdRestoring(env, x.spec, [db8]);
  assert.deepEqual(store.restores().map((r) => r.replica), ["db_8"], "db_7 never came to exist; db_8 is on chain and kept");
});
