import assert from "node:assert/strict";
import { test } from "node:test";
import { ValidationError } from "../errors/validation-error.ts";
import { MAGIC_PACKET_BYTES, magicPacket, normalizeMac, parseMagicPacket } from "./wake-on-lan.ts";

test("a magic packet is 6 x 0xff then the MAC 16 times, and parses back", () => {
  const p = magicPacket("52-54-00-AB-cd-01");
  assert.equal(p.length, MAGIC_PACKET_BYTES);
  assert.deepEqual([...p.subarray(0, 6)], [255, 255, 255, 255, 255, 255]);
  assert.deepEqual([...p.subarray(96, 102)], [0x52, 0x54, 0, 0xab, 0xcd, 1]);
  assert.equal(parseMagicPacket(p), "52:54:00:ab:cd:01");
});

test("prefixed packets and SecureOn passwords parse; broken or oversized ones do not", () => {
  const p = magicPacket("02:00:00:00:00:07");
  const framed = new Uint8Array([1, 2, 3, ...p, 9, 9, 9, 9]);
  assert.equal(parseMagicPacket(framed), "02:00:00:00:00:07");
  const broken = Uint8Array.from(p);
  broken[50] = 0x42;
  assert.equal(parseMagicPacket(broken), undefined);
  assert.equal(parseMagicPacket(p.subarray(0, 101)), undefined);
  assert.equal(parseMagicPacket(new Uint8Array(2048).fill(0xff)), undefined);
});

test("a bad MAC is refused with the field named", () => {
  for (const bad of ["", "52:54:00:ab:cd", "zz:54:00:ab:cd:01", "52:54:00:ab:cd:01:02"]) {
    assert.throws(() => normalizeMac(bad), (e: unknown) => e instanceof ValidationError && e.field === "mac");
  }
});
