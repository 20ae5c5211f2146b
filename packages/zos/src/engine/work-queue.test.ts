import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyedQueue } from "./work-queue.ts";

test("work on one key runs in order, other keys run alongside, failures do not block the key", async () => {
  const q = new KeyedQueue();
  const log: string[] = [];
  const step = (name: string, ms: number, fail = false) => () => new Promise<string>((resolve, reject) => {
    log.push(`start ${name}`);
    setTimeout(() => {
      log.push(`end ${name}`);
      if (fail) reject(new Error(name));
      else resolve(name);
    }, ms);
  });
  const a1 = q.run(1, step("a1", 30));
  const a2 = q.run(1, step("a2", 1, true));
  const a3 = q.run(1, step("a3", 1));
  const b1 = q.run(2, step("b1", 5));
  assert.equal(await a1, "a1");
  await assert.rejects(a2, /a2/);
  assert.equal(await a3, "a3");
  assert.equal(await b1, "b1");
  await q.idle();
  assert.equal(q.size, 0);
  // b1 ran while a1 was still running; a2 only started after a1 ended.
  assert.ok(log.indexOf("start b1") < log.indexOf("end a1"));
  assert.ok(log.indexOf("start a2") > log.indexOf("end a1"));
  assert.ok(log.indexOf("start a3") > log.indexOf("end a2"));
});
