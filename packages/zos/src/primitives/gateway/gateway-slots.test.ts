// Slot assignment of a gateway route (pure): backends that stay keep their slot, new ones take a
// slot that was free before the change (a retired server's slot is not reused while it drains),
// HTTPS backends only take HTTPS slots, and the list grows only when nothing fits.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MIN_SLOTS, assignSlots, initialSlots, isSlots } from "./gateway-slots.ts";

const backends = (slots: ReturnType<typeof initialSlots>) => slots.map((s) => s.backend);

test("backends keep their slots, new ones take slots free before, HTTPS only in HTTPS slots, growth only when full", () => {
  const a = initialSlots(["http://10.1.2.5:80", "http://10.1.3.5:80"], false);
  assert.deepEqual(backends(a), ["http://10.1.2.5:80", "http://10.1.3.5:80", null, null]);
  assert.equal(initialSlots(["h:1"], true).length, MIN_SLOTS);
  assert.equal(initialSlots(Array.from({ length: 5 }, (_, i) => `http://10.1.${i}.5:80`), false).length, 10);

  // a heal: 10.1.3.5 replaced by 10.1.4.5 — it goes to slot 2 (free before), not slot 1 (just retired)
  const b = assignSlots(a, ["http://10.1.2.5:80", "http://10.1.4.5:80"], false);
  assert.deepEqual(backends(b), ["http://10.1.2.5:80", null, "http://10.1.4.5:80", null]);
  // the whole set replaced at once: both new ones in slots free before; a third has to reuse a retired slot
  const c = assignSlots(b, ["http://10.1.6.5:80", "http://10.1.7.5:80", "http://10.1.8.5:80"], false);
  assert.deepEqual(backends(c), ["http://10.1.8.5:80", "http://10.1.6.5:80", null, "http://10.1.7.5:80"]);
  // more backends than slots: the list grows (a layout change)
  const d = assignSlots(c, ["http://10.1.6.5:80", "http://10.1.7.5:80", "http://10.1.8.5:80", "http://10.1.9.5:80", "http://10.1.10.5:80"], false);
  assert.equal(d.length, 5);
  assert.deepEqual(backends(d).slice(0, 4), ["http://10.1.8.5:80", "http://10.1.6.5:80", "http://10.1.9.5:80", "http://10.1.7.5:80"]);

  // HTTPS: no HTTPS slot free, so it grows; a duplicate backend takes two slots
  const e = assignSlots(a, ["https://10.1.2.5:443", "http://10.1.2.5:80", "http://10.1.2.5:80"], false);
  assert.deepEqual(e.map((s) => [s.backend, s.ssl]), [["http://10.1.2.5:80", false], [null, false], ["http://10.1.2.5:80", false], [null, false], ["https://10.1.2.5:443", true]]);
  // TLS passthrough backends are never HTTPS slots
  assert.ok(assignSlots(initialSlots(["10.1.2.5:443"], true), ["10.1.3.5:443"], true).every((s) => !s.ssl));

  assert.ok(isSlots(e));
  assert.ok(!isSlots([{ backend: 5, ssl: false }]));
  assert.ok(!isSlots({}));
});
