import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packFlist } from "./pack/pack-flist.ts";
import { unpackFlist } from "./unpack-flist.ts";

test("unpack with reuseDir hard-links files whose content matches the listing, fetches the rest, never reuses a modified copy", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-flist-reuse-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, "src");
  mkdirSync(join(src, "lib"), { recursive: true });
  writeFileSync(join(src, "lib", "same.bin"), Buffer.alloc(1_300_000, 7));
  writeFileSync(join(src, "changed.txt"), "v1\n");
  writeFileSync(join(src, "empty"), "");
  const store = `dir://${join(dir, "store")}`;
  await packFlist({ source: src, output: join(dir, "v1.fl"), stores: [store] });
  await unpackFlist({ flist: join(dir, "v1.fl"), target: join(dir, "v1") });

  writeFileSync(join(src, "changed.txt"), "v2\n");
  await packFlist({ source: src, output: join(dir, "v2.fl"), stores: [store] });
  const stats = await unpackFlist({ flist: join(dir, "v2.fl"), target: join(dir, "v2"), reuseDir: join(dir, "v1") });
  assert.equal(stats.reusedBytes, 1_300_000);
  assert.equal(statSync(join(dir, "v2", "lib", "same.bin")).ino, statSync(join(dir, "v1", "lib", "same.bin")).ino, "hard-linked");
  assert.equal(readFileSync(join(dir, "v2", "changed.txt"), "utf8"), "v2\n");

  // a copy modified on disk (same size and mtime) is detected by its hash and fetched instead
  const bad = join(dir, "v1", "lib", "same.bin");
  const st = statSync(bad);
  writeFileSync(bad, Buffer.alloc(1_300_000, 8));
  utimesSync(bad, st.atime, st.mtime);
  const again = await unpackFlist({ flist: join(dir, "v2.fl"), target: join(dir, "v2b"), reuseDir: join(dir, "v1") });
  assert.equal(again.reusedBytes ?? 0, 0);
  assert.deepEqual(readFileSync(join(dir, "v2b", "lib", "same.bin")), Buffer.alloc(1_300_000, 7));
});
