// A 3bot backs a twin's zmount disk up over the real bus (libp2p) from the node's snapshot routes
// (real engine store, real sparse disk file, real `cp`) to a real hub, then restores it: the
// restored file equals the disk as at the snapshot. Another twin's bot is refused by the node.
// No VM runs (the disk's VM never booted), so nothing is paused and no VM lock is needed.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { nodeClient } from "@zgrid/client";
import { restoreDisk } from "@zgrid/flist";
import { backupTestNode } from "./backup-node-fixture.ts";
import { backupNodeDisk } from "./disk-backup.ts";
import { restoreNodeDisk } from "./disk-restore.ts";

test("backup of a node's disk over the bus to the twin's hub, restored byte for byte into a file and back into the node's disk; another twin is refused", async (t) => {
  const n = await backupTestNode(t);
  const expected = n.content();
  const r = await backupNodeDisk({ node: nodeClient(n.owner, n.node.twinId), contractId: 12, name: "data", hub: n.hub.url, key: n.ownerKey });
  assert.equal(r.size, n.size);
  assert.equal(r.pausedMs, 0);
  assert.ok(r.zeroBlocks >= 9, `holes are skipped (${r.zeroBlocks} zero blocks)`);
  assert.equal(n.snaps.count(), 0, "the snapshot is closed on the node after the backup");
  const target = join(n.dir, "restored.img");
  await restoreDisk({ hub: n.hub.url, key: n.ownerKey, manifest: r.manifest, target });
  assert.ok(readFileSync(target).equals(expected), "restored = the disk at the snapshot");

  // the node's disk is lost (a new, empty, formatted-looking disk): restored through the node's write route
  writeFileSync(n.disk, Buffer.alloc(n.size, 0x33));
  const back = await restoreNodeDisk({ node: nodeClient(n.owner, n.node.twinId), contractId: 12, name: "data", hub: n.hub.url, key: n.ownerKey, manifest: r.manifest });
  assert.equal(back.size, n.size);
  assert.ok(readFileSync(n.disk).equals(expected), "the node's disk is the backed-up disk again, zero blocks zero");
  await assert.rejects(restoreNodeDisk({ node: nodeClient(n.stranger, n.node.twinId), contractId: 12, name: "data", hub: n.hub.url, key: n.ownerKey, manifest: r.manifest }), /of your twin/, "another twin cannot write the disk");

  await assert.rejects(backupNodeDisk({ node: nodeClient(n.stranger, n.node.twinId), contractId: 12, name: "data", hub: n.hub.url, key: n.strangerKey }), /of your twin/);
});
