// Disks and taps on the real host: ext4 disks are never reformatted; taps attach to a bridge and go away.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ensureExt4Disk } from "./disk.ts";
import { ensureTap, linkExists, removeTap, tapNameFor } from "./tap.ts";
import { createTestBridge } from "./test-fixtures.ts";

test("ensureExt4Disk creates a sparse ext4 file once and never reformats it", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "zdisk-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "d.img");
  assert.equal(await ensureExt4Disk(path, 64 << 20), true);
  const st = await stat(path);
  assert.equal(st.size, 64 << 20);
  assert.ok(st.blocks * 512 < st.size / 2, "sparse");
  const uuid = () => /Filesystem UUID:\s+(\S+)/.exec(execFileSync("dumpe2fs", ["-h", path], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }))?.[1];
  const before = uuid();
  assert.ok(before);
  assert.equal(await ensureExt4Disk(path, 128 << 20), false);
  assert.equal(uuid(), before);
  assert.equal((await stat(path)).size, 64 << 20);
});

test("a tap is attached to the bridge and removed again", async (t) => {
  const bridge = await createTestBridge();
  const tap = tapNameFor(`test-${process.pid}-${Date.now()}`);
  t.after(async () => {
    await removeTap(tap);
    await bridge.remove();
  });
  assert.equal(await ensureTap(tap, bridge.name), true);
  assert.equal(await ensureTap(tap, bridge.name), false, "idempotent");
  assert.match(execFileSync("ip", ["-o", "link", "show", tap], { encoding: "utf8" }), new RegExp(`master ${bridge.name}`));
  await removeTap(tap);
  assert.ok(!linkExists(tap));
});
