// The 3bot's backup loop over a real node bus, a real hub and the bot's real store: a due disk is
// backed up and recorded (what `zgrid bot status` shows), not again before its interval, one
// backup at a time; a failed backup (the hub gone) keeps the last good record; no hub: reported once.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Grid } from "@zgrid/client";
import { openBotStore } from "../bot-store.ts";
import type { BotEnv, Replica } from "../observe.ts";
import type { ServiceView } from "../reconcile-service.ts";
import { parseBotSpec } from "../service-spec.ts";
import { backupTestNode } from "./backup-node-fixture.ts";
import { backupLoop, dueBackups } from "./backup-loop.ts";

test("due disks are backed up one at a time, recorded, and not again before their interval; a failure keeps the last good backup", async (t) => {
  const n = await backupTestNode(t);
  const store = openBotStore(":memory:");
  t.after(async () => store.close());
  let now = Date.now();
  const events: string[] = [];
  const env = {
    grid: { bus: async () => n.owner, key: n.ownerKey } as unknown as Grid,
    store, now: () => now,
    log: (service: string, kind: string, message: string) => void events.push(`${service} ${kind}: ${message}`),
  } as unknown as BotEnv;
  const [spec] = parseBotSpec({ services: [{ name: "db", flist: "busybox", disks: [{ name: "data", size: 8, mountpoint: "/data", backup: "1h" }] }] }).services;
  const replica = (state: Replica["state"]): Replica => ({ name: "db_1", contractId: 12, nodeId: 3, nodeTwinId: n.node.twinId, ip: "", hash: "", generation: 1, state, message: "" });
  const view = (state: Replica["state"]): ServiceView[] => [{ name: "db", desired: 1, hash: "", replicas: [replica(state)], action: "" }];

  assert.deepEqual(dueBackups(env, [spec!], view("failed")), [], "only healthy replicas are backed up");
  assert.deepEqual(dueBackups(env, [spec!], view("healthy")).map((d) => `${d.replica}/${d.disk}`), ["db_1/data"]);

  const loop = backupLoop(env, { hub: n.hub.url });
  const first = loop.tick([spec!], view("healthy"));
  assert.ok(first, "a due backup starts");
  assert.equal(loop.tick([spec!], view("healthy")), undefined, "one backup at a time");
  await first;
  const rec = store.lastBackup("db", "db_1", "data");
  assert.ok(rec && /^[0-9a-f]{64}$/.test(rec.manifest) && rec.size === n.size && rec.nodeId === 3, JSON.stringify(events));
  assert.deepEqual(store.backups().map((b) => b.disk), ["data"]);
  assert.equal(loop.tick([spec!], view("healthy")), undefined, "not due again within its interval");

  now += 2 * 3_600_000;
  await n.hub.close(); // the hub is gone: the backup fails, the record of the last good one stays
  const second = loop.tick([spec!], view("healthy"));
  assert.ok(second, "due again after its interval");
  await second;
  assert.deepEqual(store.lastBackup("db", "db_1", "data"), rec);
  assert.match(events.at(-1)!, /db error: backup of disk data of db_1 failed/);
  assert.equal(n.snaps.count(), 0, "the node's snapshot was closed after the failure too");

  const noHub = backupLoop(env, {});
  assert.equal(noHub.tick([spec!], view("healthy")), undefined);
  void noHub.tick([spec!], view("healthy"));
  assert.equal(events.filter((e) => /no hub/.test(e)).length, 1, "reported once");
});
