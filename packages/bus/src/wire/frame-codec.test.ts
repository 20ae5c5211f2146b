import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { FRAME_KIND, FrameDecoder, FrameError, encodeFrame } from "./frame-codec.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("frame codec", () => {
  test("frames round-trip whatever the chunking", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 20 }), fc.integer({ min: 1, max: 50 }), (frames, cut) => {
        const wire = Buffer.concat(frames.map(([k, id, body]) => encodeFrame(k, id, [body])));
        const decoder = new FrameDecoder({ maxBodyBytes: 1024 });
        const out = [];
        for (let i = 0; i < wire.length; i += cut) out.push(...decoder.push(wire.subarray(i, i + cut)));
        assert.deepEqual(out.map((f) => (f.type === "frame" ? [f.kind, f.id, Buffer.from(f.rest)] : f)), frames.map(([k, id, b]) => [k, id, Buffer.from(b)]));
      }),
    );
  });

  test("an oversize frame is reported once with its id and skipped without buffering", () => {
    const decoder = new FrameDecoder({ maxBodyBytes: 100 });
    const big = encodeFrame(FRAME_KIND.request, 42, [new Uint8Array(10_000)]);
    const next = encodeFrame(FRAME_KIND.request, 43, [bytes("ok")]);
    const out = [...decoder.push(big.subarray(0, 5)), ...decoder.push(big.subarray(5, 5000))];
    assert.deepEqual(out, [{ type: "oversize", kind: FRAME_KIND.request, id: 42, bodyBytes: 10_002 }]);
    const rest = decoder.push(Buffer.concat([big.subarray(5000), next]));
    assert.equal(rest.length, 1);
    assert.equal(rest[0]!.type === "frame" && new TextDecoder().decode(rest[0]!.rest), "ok");
  });

  test("garbage only ever throws FrameError", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
        const decoder = new FrameDecoder({ maxBodyBytes: 64 });
        try {
          for (const c of chunks) decoder.push(c);
        } catch (error) {
          assert.ok(error instanceof FrameError, String(error));
        }
      }),
    );
    assert.throws(() => new FrameDecoder({ maxBodyBytes: 64 }).push(new Uint8Array(9).fill(0xff)), FrameError);
    assert.throws(() => new FrameDecoder({ maxBodyBytes: 64 }).push(Uint8Array.from([1, 1, 1])), FrameError);
  });
});
