import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lingeringSince } from "./vm-linger.ts";

test("lingeringSince: only a current boot whose last line is the guest's reboot/power-down counts", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "zg-linger-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, "console.log");
  const start = "zgrid-host: qemu start (tcg) at 2026-12-01T00:00:00.000Z\n";
  assert.equal(await lingeringSince(join(dir, "missing.log"), 0), undefined);
  await writeFile(log, `${start}zgrid-init: poweroff\n[    1.26] reboot: Restarting system\n\n`);
  assert.equal(await lingeringSince(log, 0), (await stat(log)).mtimeMs);
  // within the grace (the console written just now): not yet, and the console is not even read
  assert.equal(await lingeringSince(log, 60_000), undefined);
  await writeFile(log, `${start}reboot: Power down\n`);
  assert.ok(await lingeringSince(log, 0));
  await writeFile(log, `${start}Kernel panic - not syncing: Attempted to kill init!\nRebooting in 1 seconds..\n`);
  assert.ok(await lingeringSince(log, 0));
  // still talking after the line: not the last word
  await writeFile(log, `${start}reboot: Restarting system\nsomething else\n`);
  assert.equal(await lingeringSince(log, 0), undefined);
  // the reboot was the previous boot's; the current boot has not ended
  await writeFile(log, `${start}reboot: Restarting system\n${start}zgrid-init: root ready\n`);
  assert.equal(await lingeringSince(log, 0), undefined);
  await writeFile(log, `${start}reboot: Restarting system\n${start}`);
  assert.equal(await lingeringSince(log, 0), undefined);
});
