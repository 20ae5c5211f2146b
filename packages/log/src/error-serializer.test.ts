import assert from "node:assert/strict";
import { test } from "node:test";
import { serializeError, type SerializedError } from "./error-serializer.ts";

test("a typed error keeps its short message, code, hint and details; causes become one line each", () => {
  const inner = Object.assign(new Error(`The contract function "x" reverted.\n\nDetails: ${"y".repeat(5000)}`), { shortMessage: "The contract function \"x\" reverted." });
  const outer = Object.assign(new Error("contract 11 is deleted\n  hint: look", { cause: inner }), { shortMessage: "contract 11 is deleted", code: "CONTRACT_NOT_LIVE", hint: "look", details: { id: 11 } });
  const s = serializeError(outer) as SerializedError;
  assert.equal(s.message, "contract 11 is deleted");
  assert.equal(s.code, "CONTRACT_NOT_LIVE");
  assert.equal(s.hint, "look");
  assert.deepEqual(s.details, { id: 11 });
  assert.deepEqual(s.causes, ['Error: The contract function "x" reverted.']);
  assert.ok(JSON.stringify(s).length < 2_000, "bounded");
});

test("long messages are clipped, cyclic and deep cause chains are bounded", () => {
  const a = new Error("a".repeat(1_000));
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  const s = serializeError(b) as SerializedError;
  assert.equal(s.causes?.length, 1);
  assert.match(s.causes?.[0] ?? "", /more chars\)$/);
  let deep = new Error("0");
  for (let i = 1; i < 50; i++) deep = new Error(String(i), { cause: deep });
  assert.equal((serializeError(deep) as SerializedError).causes?.length, 4);
});

test("non-errors pass through: strings are wrapped and clipped", () => {
  assert.deepEqual(serializeError("boom"), { type: "string", message: "boom" });
  assert.deepEqual(serializeError({ a: 1 }), { a: 1 });
});
