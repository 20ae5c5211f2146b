import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { copyImage } from "./copy-image.ts";

test("copies sparse, refuses a symlink, stops when aborted", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "copy-image-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const img = join(dir, "image.raw");
  const data = Buffer.alloc(8 << 20);
  data.write("boot sector", 0);
  data.write("end", data.length - 3);
  writeFileSync(img, data);
  await copyImage(img, join(dir, "disk.img"));
  assert.ok(readFileSync(join(dir, "disk.img")).equals(data));
  assert.ok(statSync(join(dir, "disk.img")).blocks * 512 < 4 << 20, "zero chunks are holes");
  symlinkSync("/etc/hostname", join(dir, "link.raw"));
  await assert.rejects(copyImage(join(dir, "link.raw"), join(dir, "x.img")), /ELOOP|symbolic link/);
  const ac = new AbortController();
  ac.abort(new Error("contract cancelled"));
  await assert.rejects(copyImage(img, join(dir, "y.img"), ac.signal), /contract cancelled/);
});
