import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../testing/seeded-random.ts";
import { MAX_HEADER_BYTES, RespGuard } from "./resp-guard.ts";

const limits = { maxDepth: 1, maxArgs: 4, maxBulkBytes: 100, maxRequestBytes: 150 };
const req = (...args: string[]) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
/** Scans `text` cut into pieces of `step` bytes; the first refusal (or undefined). */
function scan(text: string | Buffer, step = Infinity, g = new RespGuard(limits)): string | undefined {
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text, "latin1");
  for (let o = 0; o < b.length; o += Math.min(step, b.length)) {
    const why = g.scan(b.subarray(o, o + Math.min(step, b.length)));
    if (why) return why;
  }
  return undefined;
}

describe("RESP framing guard", () => {
  it("passes valid requests cut at every byte boundary and ends idle between them", () => {
    const text = req("SET", "k", "v".repeat(100)) + req("GET", "k") + req("") + req("SELECT", "ns", "pw", "x\r\n$9\r\n");
    for (const step of [1, 2, 3, 7, 13, text.length]) {
      const g = new RespGuard(limits);
      assert.equal(scan(text, step, g), undefined, `step ${step}`);
      assert.ok(g.idle, `idle after step ${step}`);
    }
    const g = new RespGuard(limits);
    g.scan(Buffer.from(req("GET", "k").slice(0, 9)));
    assert.ok(!g.idle, "inside a request");
  });

  it("refuses nesting at the first nested header, whatever follows (never recursing)", () => {
    assert.match(scan("*1\r\n*1\r\n") ?? "", /nested arrays: at most depth 1/);
    assert.match(scan("*1\r\n".repeat(1_000_000)) ?? "", /nested arrays/);
    assert.match(scan("*1\r\n".repeat(1_000_000), 1) ?? "", /nested arrays/);
    // depth 2 allowed: one level of nesting passes, the next is refused
    const two = { ...limits, maxDepth: 2 };
    assert.equal(scan("*2\r\n*1\r\n$1\r\na\r\n$1\r\nb\r\n", 1, new RespGuard(two)), undefined);
    assert.match(scan("*2\r\n*1\r\n*1\r\n", Infinity, new RespGuard(two)) ?? "", /at most depth 2/);
  });

  it("refuses huge declared lengths at their header, before any body arrives", () => {
    assert.match(scan("*5\r\n") ?? "", /an array of 5 elements: 1 to 4 allowed/);
    assert.match(scan("*4294967296\r\n") ?? "", /4294967296 elements/);
    assert.match(scan("*9999999999999999999\r\n") ?? "", /elements: 1 to 4/);
    assert.match(scan("*1\r\n$101\r\n") ?? "", /a bulk string of 101 bytes: 0 to 100 allowed/);
    assert.match(scan("*1\r\n$8589934592\r\n") ?? "", /8589934592 bytes/);
    assert.match(scan(`*2\r\n$100\r\n${"a".repeat(100)}\r\n$51\r\n`) ?? "", /a request of more than 150 bytes/);
    // a header with no end: refused after 32 bytes, not buffered
    assert.match(scan("*" + "1".repeat(10_000)) ?? "", new RegExp(`header line longer than ${MAX_HEADER_BYTES}`));
    assert.match(scan("*" + "1".repeat(10_000), 1) ?? "", /header line longer/);
  });

  it("refuses what is not an array of bulk strings, and a wrong declared length", () => {
    for (const bad of ["PING\r\n", "+OK\r\n", "*0\r\n", "*-1\r\n", "*1\r\n$-1\r\n", "*1\r\n:1\r\n", "*1\r\n+x\r\n", "*+1\r\n", "*1 \r\n", "*1\n", "$3\r\nabc\r\n"]) {
      assert.ok(scan(bad), `refused: ${JSON.stringify(bad)}`);
    }
    assert.match(scan("*1\r\n$3\r\nabcd\r\n") ?? "", /not followed by CRLF/);
  });

  it("keeps refusing once it refused; random bytes never throw and stay within the header bound", () => {
    const g = new RespGuard(limits);
    assert.ok(g.scan(Buffer.from("*1\r\n*1\r\n")));
    assert.ok(g.scan(Buffer.from(req("PING"))), "still refused");
    const rand = seededRandom(23);
    for (let n = 0; n < 2000; n++) {
      const alphabet = "*$+-:0123456789\r\nab";
      const text = Array.from({ length: 1 + Math.floor(rand() * 80) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
      const g2 = new RespGuard(limits);
      scan(text, 1 + Math.floor(rand() * 5), g2);
      assert.ok((g2 as unknown as { headLen: number }).headLen <= MAX_HEADER_BYTES);
      assert.ok((g2 as unknown as { open: number[] }).open.length <= limits.maxDepth);
    }
  });
});
