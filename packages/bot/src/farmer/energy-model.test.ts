import assert from "node:assert/strict";
import { test } from "node:test";
import { alwaysOnKwh, energyModelSchema, energyReport, kwh } from "./energy-model.ts";
import { advanceLedger, newLedger } from "./farmer-state.ts";

const m = energyModelSchema.parse({});

test("kWh from power-state durations with the documented defaults", () => {
  assert.equal(kwh(m, { onSeconds: 3600, offSeconds: 0, reservedCoreSeconds: 0 }), 0.08);
  assert.equal(kwh(m, { onSeconds: 0, offSeconds: 3600, reservedCoreSeconds: 0 }), 0.005);
  assert.ok(Math.abs(kwh(m, { onSeconds: 3600, offSeconds: 0, reservedCoreSeconds: 4 * 3600 }) - (0.08 + 0.003)) < 1e-12);
  assert.equal(alwaysOnKwh(m, { onSeconds: 0, offSeconds: 3600, reservedCoreSeconds: 0 }), 0.08);
});

test("a ledger follows on/off transitions and the report compares with always-on", () => {
  const l = newLedger(0, "on");
  advanceLedger(l, 0, "on", 4);
  advanceLedger(l, 3600, "off", 0);       // 1 h on with 4 vCPUs reserved
  advanceLedger(l, 3600 * 24, "on", 0);    // 23 h off
  assert.deepEqual({ on: l.onSeconds, off: l.offSeconds, cores: l.reservedCoreSeconds, wakes: l.wakes, offs: l.offs }, { on: 3600, off: 23 * 3600, cores: 4 * 3600, wakes: 1, offs: 1 });
  const r = energyReport(m, [l]);
  assert.ok(Math.abs(r.kwh - (0.08 + 0.003 + 23 * 0.005)) < 1e-9);
  assert.ok(Math.abs(r.alwaysOnKwh - (24 * 0.08 + 0.003)) < 1e-9);
  assert.ok(r.ratio > 9 && r.savedKwh > 1.7);
  assert.ok(Math.abs(r.kwhPerDay - r.kwh) < 1e-9);
});
