// Sessions and the inbound guard from the wire: raw libp2p peers (strangers with fresh keys, or
// holding a real twin key) write hand-made frames to a running bus peer.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import type { Libp2p, Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import type { HandlerContext } from "./inbound-session.ts";
import { createPeerNode } from "../node/create-peer-node.ts";
import { TestGrid, testTwinKey } from "../testing/test-twins.ts";
import { frameHead } from "../testing/frame-head.ts";
import { FRAME_KIND, FrameDecoder, encodeFrame } from "../wire/frame-codec.ts";
import { BUS_PROTOCOL } from "../wire/protocol.ts";
import { encodeRequestAuth } from "../wire/request-auth.ts";
import { signRequest, type RequestEnvelope } from "../wire/request-envelope.ts";

const encoder = new TextEncoder();

function envelope(over: Partial<RequestEnvelope> = {}): RequestEnvelope {
  const now = Date.now();
  return { uid: randomBytes(16).toString("hex"), timestamp: now, expiration: now + 10_000, source: 1, destination: 2, command: "whoami", payload: null, ...over };
}

const signed = (id: number, key: TwinKey, env: RequestEnvelope): Uint8Array => {
  const { body, signature } = signRequest(key, env);
  return encodeFrame(FRAME_KIND.request, id, [encodeRequestAuth(signature), body]);
};
const unsigned = (id: number, env: RequestEnvelope): Uint8Array => encodeFrame(FRAME_KIND.sessionRequest, id, [encoder.encode(JSON.stringify(env))]);

/** Answers on a raw stream by request id: the error code, or "OK" and the value. */
function answers(stream: Stream): (id: number) => Promise<{ code: string; value: unknown }> {
  const got = new Map<number, { code: string; value: unknown }>();
  const waiters = new Map<number, (a: { code: string; value: unknown }) => void>();
  const decoder = new FrameDecoder({ maxBodyBytes: 1 << 20 });
  stream.addEventListener("message", (e) => {
    for (const f of decoder.push(e.data)) {
      if (f.type !== "frame") continue;
      const value = JSON.parse(new TextDecoder().decode(f.rest)) as { code?: string };
      const a = { code: f.kind === FRAME_KIND.error ? value.code! : "OK", value };
      const w = waiters.get(f.id);
      if (w) w(a);
      else got.set(f.id, a);
    }
  });
  return (id) => (got.has(id) ? Promise.resolve(got.get(id)!) : new Promise((r) => waiters.set(id, r)));
}

const strangerKey = (): TwinKey => twinKeyFromPrivateKey(`0x${randomBytes(32).toString("hex")}`);

describe("sessions: one signed request opens a stream's session, later requests carry no signature", () => {
  test("session requests need a session of the same twin; replay protection stays; handlers see how each request was authenticated", async (t) => {
    const grid = new TestGrid();
    const peers: Libp2p[] = [];
    t.after(async () => {
      await Promise.allSettled(peers.map((p) => p.stop()));
      await grid.close();
    });
    await grid.bus({ twinId: 1 });
    const b = await grid.bus({ twinId: 2 });
    await grid.bus({ twinId: 3 });
    b.handle("whoami", (_p: unknown, ctx: HandlerContext) => ({ twin: ctx.twinId, auth: ctx.auth, session: ctx.session }));
    const raw = await createPeerNode({ key: testTwinKey(1), listen: [] });
    peers.push(raw);
    const stream = await raw.dialProtocol(multiaddr(b.addresses()[0]!), BUS_PROTOCOL);
    const answer = answers(stream);

    stream.send(unsigned(1, envelope()));
    assert.equal((await answer(1)).code, "BUS_NO_SESSION");
    stream.send(signed(2, testTwinKey(1), envelope()));
    const first = (await answer(2)).value as { twin: number; auth: string; session: string };
    assert.deepEqual([first.twin, first.auth], [1, "signature"]);
    const env = envelope();
    stream.send(unsigned(3, env));
    const second = (await answer(3)).value as { twin: number; auth: string; session: string };
    assert.deepEqual(second, { twin: 1, auth: "session", session: first.session });
    stream.send(unsigned(4, env));
    assert.equal((await answer(4)).code, "BUS_REPLAYED");
    stream.send(unsigned(5, envelope({ source: 3 })));
    assert.equal((await answer(5)).code, "BUS_SOURCE_MISMATCH");
    stream.send(unsigned(6, envelope({ expiration: Date.now() - 1 })));
    assert.equal((await answer(6)).code, "BUS_EXPIRED");

    // Another stream of the same connection has no session until it signs.
    const other = await raw.dialProtocol(multiaddr(b.addresses()[0]!), BUS_PROTOCOL);
    const otherAnswer = answers(other);
    other.send(unsigned(1, envelope()));
    assert.equal((await otherAnswer(1)).code, "BUS_NO_SESSION");
  });

  test("a bus signs only until its session is open, re-signs after the stream is lost, and sends large requests after a hello", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const a = await grid.bus({ twinId: 1 });
    const b = await grid.bus({ twinId: 2 });
    const seen: string[] = [];
    b.handle("whoami", (p: unknown, ctx: HandlerContext) => {
      seen.push(ctx.auth);
      return typeof p === "string" ? p.length : null;
    });
    for (let i = 0; i < 5; i++) await a.request(2, "whoami");
    assert.deepEqual(seen, ["signature", "session", "session", "session", "session"]);
    // The connection drops: the next stream starts without a session again.
    await a.node!.hangUp(b.node!.peerId);
    seen.length = 0;
    for (let i = 0; i < 2; i++) await a.request(2, "whoami");
    assert.deepEqual(seen, ["signature", "session"]);
    // A first request larger than strangers may send (64 KiB) goes after a signed hello.
    await b.node!.hangUp(a.node!.peerId);
    seen.length = 0;
    assert.equal(await a.request(2, "whoami", "x".repeat(300_000)), 300_000);
    assert.deepEqual(seen, ["session"]);
  });
});

describe("the inbound guard holds strangers to small limits", () => {
  test("per-IP connection cap, unproven stream cap, small frames, a buffer budget, and the idle close", async (t) => {
    const grid = new TestGrid();
    const peers: Libp2p[] = [];
    t.after(async () => {
      await Promise.allSettled(peers.map((p) => p.stop()));
      await grid.close();
    });
    const twin = await grid.bus({ twinId: 1 });
    const b = await grid.bus({
      twinId: 2,
      limits: { maxUnprovenConnectionsPerIp: 3, maxUnprovenStreamsPerConnection: 2, maxUnprovenFrameBytes: 4096, maxUnprovenBufferedBytes: 6_000, unprovenIdleMs: 6_000 },
    });
    b.handle("whoami", (_p: unknown, ctx: HandlerContext) => ctx.twinId);
    const target = multiaddr(b.addresses()[0]!);
    // The twin proves itself once, then leaves.
    assert.equal(await twin.request(2, "whoami"), 1);
    await twin.node!.hangUp(b.node!.peerId);

    // Per IP: 3 strangers get in, the 4th is refused.
    for (let i = 0; i < 4; i++) {
      const s = await createPeerNode({ key: strangerKey(), listen: [] });
      peers.push(s);
      // The refusal comes once Noise named the peer: the dialer may see its dial finish first.
      await s.dial(target, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 500));
    const connected = peers.filter((p) => p.getConnections().length > 0);
    assert.equal(connected.length, 3);
    assert.equal(b.metrics().guard.refusedConnections >= 1, true);
    // The twin, from the same IP, still gets in: it proved itself before.
    assert.equal(await twin.request(2, "whoami"), 1);

    // Streams: the third bus stream of an unproven connection is reset.
    const [s1] = connected;
    const streams = await Promise.all([0, 1, 2].map(() => s1!.dialProtocol(target, BUS_PROTOCOL)));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(streams.filter((s) => s.status === "open").length, 2);
    // Frames over the strangers' cap are refused with a hint, unbuffered.
    const open = streams.find((s) => s.status === "open")!;
    const answer = answers(open);
    open.send(encodeFrame(FRAME_KIND.request, 9, [new Uint8Array(5000)]));
    const big = await answer(9);
    assert.equal(big.code, "BUS_MESSAGE_TOO_LARGE");
    assert.match((big.value as { hint: string }).hint, /signed request/);
    // Budget: the strangers' unfinished 4 KiB frames cross 6,000 bytes: the stream that does is reset.
    const held = await Promise.all(connected.map((s) => s.dialProtocol(target, BUS_PROTOCOL).catch(() => undefined)));
    for (const s of held) {
      try {
        s?.send(frameHead(4000, 1));
        s?.send(new Uint8Array(3900));
      } catch {
        // s1's third stream is reset at once (stream cap)
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    const guard = b.metrics().guard;
    assert.ok(guard.resetStreams >= 1, JSON.stringify(guard));
    assert.ok(guard.unprovenBufferedBytes <= 6_000, JSON.stringify(guard));

    // Idle: strangers are gone after 6 s without a valid request; the twin's connection stays.
    const deadline = Date.now() + 15_000;
    while (connected.some((s) => s.getConnections().length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const s of connected) assert.equal(s.getConnections().length, 0);
    assert.equal(b.metrics().guard.unprovenConnections, 0);
    assert.equal(b.metrics().guard.unprovenBufferedBytes, 0);
    assert.equal(await twin.request(2, "whoami"), 1);
    assert.equal(twin.node!.getConnections(b.node!.peerId).length, 1);
  });

  test("one twin's unfinished frames are bounded per twin and do not slow another twin", async (t) => {
    const grid = new TestGrid();
    const peers: Libp2p[] = [];
    t.after(async () => {
      await Promise.allSettled(peers.map((p) => p.stop()));
      await grid.close();
    });
    await grid.bus({ twinId: 1 });
    const c = await grid.bus({ twinId: 3 });
    const b = await grid.bus({ twinId: 2, limits: { maxMessageBytes: 256 * 1024, maxBufferedBytesPerTwin: 1024 * 1024 } });
    b.handle("whoami", (_p: unknown, ctx: HandlerContext) => ctx.twinId);
    const target = multiaddr(b.addresses()[0]!);
    // Twin 1 (raw) proves its connection, then leaves 200 KiB frames unfinished on 16 streams.
    const raw = await createPeerNode({ key: testTwinKey(1), listen: [] });
    peers.push(raw);
    const first = await raw.dialProtocol(target, BUS_PROTOCOL);
    const answer = answers(first);
    first.send(signed(1, testTwinKey(1), envelope()));
    assert.equal((await answer(1)).code, "OK");
    const flood = await Promise.all(Array.from({ length: 15 }, () => raw.dialProtocol(target, BUS_PROTOCOL).catch(() => undefined)));
    for (const s of flood) {
      s?.send(frameHead(200 * 1024, 1));
      s?.send(new Uint8Array(200 * 1024 - 10));
    }
    const started = performance.now();
    for (let i = 0; i < 10; i++) assert.equal(await c.request(2, "whoami"), 3);
    t.diagnostic(`twin 3: 10 requests in ${(performance.now() - started).toFixed(0)} ms during twin 1's flood`);
    await new Promise((r) => setTimeout(r, 300));
    const guard = b.metrics().guard;
    assert.ok(guard.resetStreams >= 1, JSON.stringify(guard));
    assert.ok(guard.provenBufferedBytes <= 1024 * 1024, JSON.stringify(guard));
  });
});
