import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { snappyValidLength } from "./snappy-validate.ts";

// The native decoder (the one the mount and unpack use) is the reference verdict.
const native = createRequire(import.meta.url)("snappy") as { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer): Buffer };
const MAX = 64 * 1024 * 1024;

function nativeLength(b: Buffer): number {
  try {
    return native.uncompressSync(b).length;
  } catch {
    return -1;
  }
}

/** Plaintexts with every tag kind: literals of each length encoding, short and far copies. */
function samples(): Buffer[] {
  const text = Buffer.from("the quick brown fox jumps over the lazy dog ".repeat(3000));
  const mixed = Buffer.concat(Array.from({ length: 40 }, (_, i) => (i % 3 ? randomBytes(1 + i * 97) : Buffer.alloc(i * 300, i))));
  const far = randomBytes(70_000);
  return [
    Buffer.alloc(0), Buffer.from([7]), randomBytes(59), randomBytes(60), randomBytes(300), randomBytes(70_000),
    text, mixed, Buffer.concat([far, randomBytes(10), far]), Buffer.alloc(512 * 1024, 0xab),
  ];
}

test("snappy validate: a valid stream gives the length the native decoder produces", () => {
  for (const plain of samples()) {
    const c = native.compressSync(plain);
    assert.equal(snappyValidLength(c, MAX), plain.length);
    if (plain.length > 0) assert.equal(snappyValidLength(c, plain.length - 1), -1, "a header above the bound is refused");
  }
});

test("snappy validate: agrees with the native decoder on truncated, extended and mutated streams", () => {
  let refused = 0;
  let cases = 0;
  for (const plain of samples()) {
    const c = native.compressSync(plain);
    const variants: Buffer[] = [];
    for (let k = 0; k < 40; k++) variants.push(c.subarray(0, Math.floor(Math.random() * c.length)));
    variants.push(Buffer.concat([c, Buffer.from([0])]), Buffer.concat([c, randomBytes(5)]));
    for (let k = 0; k < 300; k++) {
      const m = Buffer.from(c);
      const at = Math.floor(Math.random() * m.length);
      if (m.length > 0) m[at] = k % 2 ? m[at]! ^ (1 << (k % 8)) : Math.floor(Math.random() * 256);
      variants.push(m);
    }
    for (const v of variants) {
      const want = nativeLength(v);
      assert.equal(snappyValidLength(v, MAX), want, `stream ${v.subarray(0, 16).toString("hex")}… (${v.length} bytes)`);
      cases++;
      if (want < 0) refused++;
    }
  }
  for (let k = 0; k < 2000; k++) {
    // Garbage after a small header (the native decoder allocates whatever a header declares).
    const v = Buffer.concat([Buffer.from([k % 128]), randomBytes(k % 64)]);
    assert.equal(snappyValidLength(v, MAX), nativeLength(v), `garbage ${v.toString("hex")}`);
  }
  assert.ok(refused > cases / 10, `the mutations exercise refusals (${refused} of ${cases})`);
});

test("snappy validate: refuses the hostile forms by name", () => {
  const ok = Buffer.from([3, 0x08, 1, 2, 3]); // length 3, one literal of 3
  assert.equal(snappyValidLength(ok, MAX), 3);
  const cases: [string, number[]][] = [
    ["empty input (no header)", []],
    ["header varint longer than 5 bytes", [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    ["literal past the end of the input", [5, 0x10, 1]],
    ["copy with offset 0", [8, 0x0c, 1, 2, 3, 4, 0x01 | (0 << 2), 0]],
    ["copy reaching before the start", [9, 0x00, 7, 0x01, 2]],
    ["output longer than the header", [1, 0x04, 1, 2]],
    ["output shorter than the header", [4, 0x08, 1, 2, 3]],
    ["copy tag cut short", [8, 0x00, 1, 0x02, 1]],
    ["long literal length cut short", [100, 0xf0]],
  ];
  for (const [name, bytes] of cases) {
    const b = Buffer.from(bytes);
    assert.equal(snappyValidLength(b, MAX), -1, name);
    assert.equal(nativeLength(b), -1, `the native decoder refuses it too: ${name}`);
  }
});
