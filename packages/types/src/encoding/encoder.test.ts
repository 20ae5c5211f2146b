import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Encoder } from "./encoder.ts";

test("encoder layout is the documented one", () => {
  const hex = bytesToHex(new Encoder().str("zgrid").u64(7).bool(true).bytes());
  assert.equal(hex, "000000057a67726964" + "0000000000000007" + "01");
  const m = bytesToHex(new Encoder().map({ b: "2", a: "1" }, (e, v) => e.str(v)).bytes());
  assert.equal(m, "00000002" + "0000000161" + "0000000131" + "0000000162" + "0000000132");
  assert.equal(bytesToHex(new Encoder().optional(undefined, (e, v: number) => e.u64(v)).optional(1, (e, v) => e.u64(v)).bytes()), "00" + "01" + "0000000000000001");
  assert.equal(bytesToHex(new Encoder().list([1, 2], (e, v) => e.u32(v)).bytes()), "00000002" + "00000001" + "00000002");
});

test("encoder refuses values it cannot encode exactly", () => {
  assert.throws(() => new Encoder().u64(-1), RangeError);
  assert.throws(() => new Encoder().u64(1.5), RangeError);
  assert.throws(() => new Encoder().u64(2 ** 53), RangeError);
});
