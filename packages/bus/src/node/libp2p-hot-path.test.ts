// The per-message fixes of libp2p-hot-path.ts, checked on real libp2p peers: fewer writes per
// request, large transfers past the yamux window still flow, a stalled reader stays bounded and
// blocks nobody, and the decoder still splits frames however they arrive.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Socket } from "node:net";
import { describe, test } from "node:test";
import type { Libp2p } from "@libp2p/interface";
import { LengthPrefixedDecoder } from "@libp2p/utils";
import { multiaddr } from "@multiformats/multiaddr";
import type { RequestEnvelope } from "../wire/request-envelope.ts";
import { signRequest } from "../wire/request-envelope.ts";
import { FRAME_KIND, encodeFrame } from "../wire/frame-codec.ts";
import { BUS_PROTOCOL } from "../wire/protocol.ts";
import { encodeRequestAuth } from "../wire/request-auth.ts";
import { TestGrid, testTwinKey } from "../testing/test-twins.ts";
import { createPeerNode } from "./create-peer-node.ts";
import { libp2pHotPathState } from "./libp2p-hot-path.ts";

/** Counts `socket.write` calls of every TCP socket in this process while `run` runs. */
async function countSocketWrites(run: () => Promise<void>): Promise<number> {
  const write = Socket.prototype.write;
  let writes = 0;
  Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
    writes++;
    return write.apply(this, args);
  } as Socket["write"];
  try {
    await run();
  } finally {
    Socket.prototype.write = write;
  }
  return writes;
}

describe("libp2p hot path: fewer messages and writes per request, nothing stalls", () => {
  test("a request one at a time costs one TCP write each way; transfers far past the yamux window still flow both ways", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const [a, b] = await grid.buses(2);
    b!.handle("echo", (p: unknown) => p);
    // Once a bus node exists, both library fixes are in place (a library update that moved the
    // internals they rely on fails here).
    assert.deepEqual(libp2pHotPathState(), { yamuxWindowUpdates: true, lengthPrefixedDecoder: true });
    for (let i = 0; i < 5; i++) await a!.request(2, "echo", i);
    const n = 100;
    const counted = await countSocketWrites(async () => {
      for (let i = 0; i < n; i++) assert.deepEqual(await a!.request(2, "echo", { i }), { i });
    });
    // Before: 8 (a window update answering each message, and a length and a ciphertext per message).
    t.diagnostic(`${(counted / n).toFixed(2)} socket writes per sequential request (client + server)`);
    assert.ok(counted <= 2 * n + 4, `socket writes for ${n} requests: ${counted}`);

    // 8 × 600 KiB (base64 of 450 KiB) in flight each way: ~19 times the 256 KiB window, so the window updates sent
    // at half a window keep both directions moving.
    const big = Array.from({ length: 8 }, () => randomBytes(450 * 1024).toString("base64"));
    const back = await Promise.all(big.map((s) => a!.request<string>(2, "echo", s, { timeout: 60_000 })));
    assert.ok(back.every((s, i) => s === big[i]), "every large answer equals its request");
    for (let round = 0; round < 3; round++) assert.equal(await a!.request(2, "echo", big[round]), big[round]);
  });

  test("a twin that stops reading its answers: its stream is bounded and reset, other twins and its other connection are served", async (t) => {
    const grid = new TestGrid();
    const peers: Libp2p[] = [];
    t.after(async () => {
      for (const p of peers) await Promise.resolve(p.stop()).catch(() => undefined);
      await grid.close();
    });
    const one = await grid.bus({ twinId: 1 });
    const c = await grid.bus({ twinId: 3 });
    const b = await grid.bus({ twinId: 2, limits: { maxMessageBytes: 256 * 1024 } });
    const answer = "y".repeat(200 * 1024);
    b.handle("blob", () => answer);
    b.handle("whoami", (_p: unknown, ctx: { twinId: number }) => ctx.twinId);
    // Twin 1, raw: a signed request per frame asking for 200 KiB answers, and it never reads.
    const raw = await createPeerNode({ key: testTwinKey(1), listen: [] });
    peers.push(raw);
    const stream = await raw.dialProtocol(multiaddr(b.addresses()[0]!), BUS_PROTOCOL);
    stream.pause();
    const now = Date.now();
    const request = (id: number): Uint8Array => {
      const env: RequestEnvelope = { uid: randomBytes(16).toString("hex"), timestamp: now, expiration: now + 60_000, source: 1, destination: 2, command: "blob", payload: null };
      const { body, signature } = signRequest(testTwinKey(1), env);
      return encodeFrame(FRAME_KIND.request, id, [encodeRequestAuth(signature), body]);
    };
    // 120 × 200 KiB = 24 MiB of answers: more than the 16 MiB a bus stream may hold unsent.
    for (let id = 1; id <= 120; id++) stream.send(request(id));
    const started = performance.now();
    for (let i = 0; i < 20; i++) assert.equal(await c.request(2, "whoami"), 3);
    t.diagnostic(`twin 3: 20 requests in ${(performance.now() - started).toFixed(0)} ms while twin 1 does not read`);
    // The stalled stream is reset once its unsent answers pass the bound (nothing piles up).
    const deadline = Date.now() + 20_000;
    while (stream.status === "open" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(stream.status, "open", "the stalled stream was reset");
    // Twin 1 itself is not locked out: its bus (another connection and stream) is answered.
    assert.equal(await one.request(2, "whoami"), 1);
  });

  test("the Noise length decoder splits frames whatever the chunking, empty or not", () => {
    const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(7), new Uint8Array([9])];
    const wire = Buffer.concat(frames.map((f) => Buffer.concat([Buffer.from([f.byteLength >> 8, f.byteLength & 0xff]), f])));
    const lengthDecoder = (d: Uint8Array | { getUint16(i: number): number; byteLength: number }): number => {
      if (d.byteLength < 2) throw new RangeError("short");
      return d instanceof Uint8Array ? (d[0]! << 8) | d[1]! : d.getUint16(0);
    };
    for (const chunk of [1, 2, 3, 7, wire.byteLength]) {
      const decoder = new LengthPrefixedDecoder({ lengthDecoder, encodingLength: () => 2 });
      const out: number[][] = [];
      for (let i = 0; i < wire.byteLength; i += chunk) for (const f of decoder.decode(wire.subarray(i, i + chunk))) out.push([...f.subarray()]);
      // Empty frames are dropped by the decoder (as before the fix).
      assert.deepEqual(out, frames.filter((f) => f.byteLength > 0).map((f) => [...f]), `chunks of ${chunk}`);
    }
    const decoder = new LengthPrefixedDecoder({ lengthDecoder, encodingLength: () => 2, maxDataLength: 10 });
    assert.throws(() => [...decoder.decode(new Uint8Array([0, 11, ...new Uint8Array(11)]))], /length/i);
  });
});
