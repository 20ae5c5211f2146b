import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistMounts } from "./flist-mounts.ts";

test("unmount also removes a flist download cut by a kill (its part file), so the share dir goes; others' files stay", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "zg-flist-mounts-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const mounts = new FlistMounts({ cacheDir: join(dir, "cache"), cacheBytes: 1 << 20, requireSignature: true });
  const share = join(dir, "mnt", "4-6-vm");
  const mountpoint = join(share, "root");
  await mkdir(mountpoint, { recursive: true });
  // what a zosd SIGKILLed mid-download leaves: the mountpoint, its part file
  await writeFile(join(share, "root.fl.part-4242-abc123"), "half a flist");
  const other = join(dir, "mnt", "4-7-vm");
  await mkdir(other);
  await writeFile(join(other, "root.fl.part-1-x"), "another VM's download");
  await mounts.unmount(mountpoint);
  await mounts.unmount(share); // the legacy pass of zmachine's unmountAll: the then empty share dir
  assert.equal(existsSync(share), false, "the share dir is gone");
  assert.equal(existsSync(join(other, "root.fl.part-1-x")), true, "another VM's download is not touched");
});
