// The lifecycle starts services in order and stops them in reverse, keeps stopping when one
// stop fails, and periodic services stop after their running tick.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "@zgrid/log";
import { intervalService, Lifecycle, service } from "./lifecycle.ts";

const log = createLogger("test.lifecycle");

test("starts in order, stops in reverse, a failing stop does not stop the others", async () => {
  const seen: string[] = [];
  const life = new Lifecycle(log);
  for (const n of ["bus", "store", "engine", "routes"]) {
    await life.start(service(n, () => seen.push(`start ${n}`), () => {
      seen.push(`stop ${n}`);
      if (n === "engine") throw new Error("boom");
    }));
  }
  assert.deepEqual(life.names, ["bus", "store", "engine", "routes"]);
  await life.stop();
  assert.deepEqual(seen, ["start bus", "start store", "start engine", "start routes", "stop routes", "stop engine", "stop store", "stop bus"]);
  assert.deepEqual(life.names, []);
});

test("an interval service ticks one at a time and stop waits for the running tick", async () => {
  let ticks = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const s = intervalService("watch", 5, async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 30));
    ticks++;
    inFlight--;
  }, log);
  await s.start();
  await new Promise((r) => setTimeout(r, 120));
  await s.stop();
  const after = ticks;
  assert.ok(after >= 2, `ticked ${after} times`);
  assert.equal(maxInFlight, 1);
  assert.equal(inFlight, 0, "stop waited for the tick");
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(ticks, after, "no tick after stop");
});
