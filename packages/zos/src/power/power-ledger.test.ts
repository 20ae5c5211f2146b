import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { openPowerLedger } from "./power-ledger.ts";

const dir = mkdtempSync(join(tmpdir(), "power-ledger-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("the node's own power ledger", () => {
  test("on time and reserved vCPU-seconds while on; off time from power-off to power-on across a restart", () => {
    const file = join(dir, "a.json");
    let t = 1_000, cores = 0;
    const now = () => t;
    let l = openPowerLedger({ file, usedCores: () => cores, now });
    t += 100; cores = 4;
    l.checkpoint();          // 100 s on, nothing reserved yet
    t += 50;
    assert.deepEqual(l.report(), { since: 1_000, on_seconds: 150, off_seconds: 0, reserved_core_seconds: 200, wakes: 0, power_offs: 0 });
    cores = 0;
    t += 10;
    l.markOff();             // off at 1160
    // The machine is off 1000 s; power comes back at 2160, zosd is up 20 s later.
    t = 2_180;
    l = openPowerLedger({ file, usedCores: () => cores, now, powerOnAt: 2_160 });
    assert.deepEqual(l.report(), { since: 1_000, on_seconds: 160 + 20, off_seconds: 1_000, reserved_core_seconds: 240, wakes: 1, power_offs: 1 });
  });

  test("a crash (no power-off written) counts the gap as on; a power-on time before the off is clamped", () => {
    const file = join(dir, "b.json");
    let t = 5_000;
    const now = () => t;
    let l = openPowerLedger({ file, usedCores: () => 1, now });
    t += 60;
    l.checkpoint();
    t += 300;                // SIGKILL: nothing written for 300 s
    l = openPowerLedger({ file, usedCores: () => 1, now });
    assert.equal(l.report().on_seconds, 360);
    assert.equal(l.report().off_seconds, 0);
    l.markOff();
    t += 100;
    l = openPowerLedger({ file, usedCores: () => 1, now, powerOnAt: 1 }); // a bogus clock: never negative off time
    const r = l.report();
    assert.equal(r.off_seconds, 0);
    assert.equal(r.on_seconds, 460);
  });

  test("a power-off after the store closed still writes the off instant", () => {
    const file = join(dir, "d.json");
    let t = 100, closed = false;
    const l = openPowerLedger({ file, usedCores: () => { if (closed) throw new Error("statement has been finalized"); return 2; }, now: () => t });
    t += 10;
    closed = true;
    l.markOff();
    assert.equal(JSON.parse(readFileSync(file, "utf8")).offAt, 110);
    assert.equal(JSON.parse(readFileSync(file, "utf8")).reservedCoreSeconds, 20);
  });

  test("a garbage file is moved aside and counting starts again", () => {
    const file = join(dir, "c.json");
    writeFileSync(file, '{"version":1,"since":"x"');
    const l = openPowerLedger({ file, usedCores: () => 0, now: () => 9 });
    assert.equal(existsSync(`${file}.corrupt`), true);
    assert.deepEqual(l.report(), { since: 9, on_seconds: 0, off_seconds: 0, reserved_core_seconds: 0, wakes: 0, power_offs: 0 });
    writeFileSync(file, JSON.stringify({ version: 1, since: 1, at: 1, onSeconds: -5, offSeconds: 0, reservedCoreSeconds: 0, wakes: 0, powerOffs: 0 }));
    openPowerLedger({ file, usedCores: () => 0, now: () => 9 });
    assert.equal(JSON.parse(readFileSync(file, "utf8")).onSeconds, 0, "negative counters are refused, not added to");
  });
});
