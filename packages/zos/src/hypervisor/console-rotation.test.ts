// A chatty guest cannot fill the disk: the console log is rotated at its cap while the writer
// (like QEMU's chardev, append=on) keeps its O_APPEND descriptor: at most ~2 × the cap on disk.
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { rotateConsole } from "./vm-console.ts";

test("rotates at the cap; the appending writer continues in the fresh log", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "console-rot-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, "console.log");
  const fd = openSync(log, "a");
  t.after(() => closeSync(fd));
  const cap = 256 * 1024;
  const line = Buffer.from(`${"x".repeat(99)}\n`);
  let rotations = 0;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 1000; i++) writeSync(fd, line); // ~100 KB per round: 2 MB in all
    if (await rotateConsole(log, cap)) rotations++;
    assert.ok(statSync(log).size <= cap + 100 * 1000 + 200, "the live log stays near the cap");
  }
  assert.ok(rotations >= 5, `${rotations} rotations`);
  assert.ok(statSync(`${log}.1`).size <= cap + 100 * 1000, "one older copy, bounded");
  writeSync(fd, "after rotation\n");
  const text = readFileSync(log, "utf8");
  assert.ok(text.endsWith("after rotation\n"));
  assert.ok(!text.includes("\0"), "appends go to the new end, no hole of zeros");
  assert.equal(await rotateConsole(join(dir, "missing.log"), cap), false);
});
