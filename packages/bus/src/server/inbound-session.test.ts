// Rejections seen from the wire: a raw libp2p peer (holding a real twin key) writes hand-made
// frames to a running bus peer and reads the typed answers.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Libp2p, Stream } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { createLibp2p } from "libp2p";
import { multiaddr } from "@multiformats/multiaddr";
import type { TwinKey } from "@zgrid/types";
import type { Bus } from "../create-bus.ts";
import { createPeerNode } from "../node/create-peer-node.ts";
import { TestGrid, testTwinKey } from "../testing/test-twins.ts";
import { FRAME_KIND, FrameDecoder, encodeFrame } from "../wire/frame-codec.ts";
import { BUS_PROTOCOL } from "../wire/protocol.ts";
import { batchDigest, encodeRequestAuth, merkleTree } from "../wire/request-auth.ts";
import { requestDigest, signRequest, signRequestDigest, type RequestEnvelope } from "../wire/request-envelope.ts";

interface Answer {
  kind: number;
  value: { code?: string } | unknown;
}

/** A bare bus stream: send frames, await the answer to an id. */
class RawStream {
  readonly #waiters = new Map<number, (a: Answer) => void>();
  readonly #answers = new Map<number, Answer>();
  readonly stream: Stream;

  constructor(stream: Stream) {
    this.stream = stream;
    const decoder = new FrameDecoder({ maxBodyBytes: 1 << 20 });
    stream.addEventListener("message", (e) => {
      for (const f of decoder.push(e.data)) {
        if (f.type !== "frame") continue;
        const answer = { kind: f.kind, value: JSON.parse(new TextDecoder().decode(f.rest)) as unknown };
        const waiter = this.#waiters.get(f.id);
        if (waiter) waiter(answer);
        else this.#answers.set(f.id, answer);
      }
    });
  }

  answer(id: number): Promise<Answer> {
    const ready = this.#answers.get(id);
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiters.set(id, resolve));
  }

  async code(id: number): Promise<string | undefined> {
    const a = await this.answer(id);
    return a.kind === FRAME_KIND.error ? (a.value as { code: string }).code : "OK";
  }
}

function envelope(over: Partial<RequestEnvelope> = {}): RequestEnvelope {
  const now = Date.now();
  return { uid: randomBytes(16).toString("hex"), timestamp: now, expiration: now + 10_000, source: 1, destination: 2, command: "echo", payload: { hello: "world" }, ...over };
}

function requestFrame(id: number, key: TwinKey, env: RequestEnvelope): Uint8Array {
  const { body, signature } = signRequest(key, env);
  return encodeFrame(FRAME_KIND.request, id, [encodeRequestAuth(signature), body]);
}

describe("inbound: every refusal is a typed answer and nothing a peer sends crashes the receiver", () => {
  let grid: TestGrid;
  let b: Bus;
  let c: Bus;
  let raw: Libp2p | undefined;
  const keyA = testTwinKey(1);

  before(async () => {
    grid = new TestGrid();
    await grid.bus({ twinId: 1 });
    b = await grid.bus({ twinId: 2, limits: { maxMessageBytes: 4096 } });
    c = await grid.bus({ twinId: 3 });
    b.handle("echo", (p: unknown) => p);
    // A raw peer holding twin 1's key: the receiver sees twin 1 connecting.
    raw = await createPeerNode({ key: keyA, listen: [] });
  });

  const open = async (): Promise<RawStream> => new RawStream(await raw!.dialProtocol(multiaddr(b.addresses()[0]!), BUS_PROTOCOL));

  test("a well-formed request is answered; the same envelope again is a replay", async () => {
    const s = await open();
    const env = envelope();
    s.stream.send(requestFrame(1, keyA, env));
    assert.deepEqual(await s.answer(1), { kind: FRAME_KIND.response, value: { hello: "world" } });
    s.stream.send(requestFrame(2, keyA, env));
    assert.equal(await s.code(2), "BUS_REPLAYED");
  });

  test("expired, future-dated and over-long validity windows are refused", async () => {
    const s = await open();
    const now = Date.now();
    s.stream.send(requestFrame(1, keyA, envelope({ timestamp: now - 20_000, expiration: now - 10_000 })));
    s.stream.send(requestFrame(2, keyA, envelope({ timestamp: now + 120_000, expiration: now + 130_000 })));
    s.stream.send(requestFrame(3, keyA, envelope({ timestamp: now, expiration: now + 3_600_000 })));
    assert.equal(await s.code(1), "BUS_EXPIRED");
    assert.equal(await s.code(2), "BUS_FUTURE_DATED");
    assert.equal(await s.code(3), "BUS_BAD_REQUEST");
  });

  test("bad signatures, wrong destination, unknown or impersonated source are refused", async () => {
    const s = await open();
    const { body, signature } = signRequest(keyA, envelope());
    const flipped = Uint8Array.from(signature);
    flipped[10]! ^= 1;
    s.stream.send(encodeFrame(FRAME_KIND.request, 1, [encodeRequestAuth(flipped), body]));
    s.stream.send(requestFrame(2, testTwinKey(3), envelope())); // signed by twin 3, claims twin 1
    s.stream.send(requestFrame(3, keyA, envelope({ destination: 3 })));
    s.stream.send(requestFrame(4, keyA, envelope({ source: 77 })));
    s.stream.send(requestFrame(5, testTwinKey(3), envelope({ source: 3 }))); // twin 3's signature, twin 1's connection
    assert.equal(await s.code(1), "BUS_BAD_SIGNATURE");
    assert.equal(await s.code(2), "BUS_BAD_SIGNATURE");
    assert.equal(await s.code(3), "BUS_WRONG_DESTINATION");
    assert.equal(await s.code(4), "BUS_UNKNOWN_SOURCE");
    assert.equal(await s.code(5), "BUS_SOURCE_MISMATCH");
  });

  test("batch-signed requests: each verifies alone with its proof; a wrong proof or swapped body is refused", async () => {
    const s = await open();
    const bodies = [0, 1, 2, 3, 4].map((i) => new TextEncoder().encode(JSON.stringify(envelope({ payload: i }))));
    const { root, proofs } = merkleTree(bodies.map(requestDigest));
    const signature = signRequestDigest(keyA, batchDigest(bodies.length, root));
    // Request 4 is the unpaired last leaf; send in reverse order to show each stands alone.
    for (const i of [4, 3, 2, 1, 0]) s.stream.send(encodeFrame(FRAME_KIND.request, 10 + i, [encodeRequestAuth(signature, 5, i, proofs[i]), bodies[i]!]));
    for (const i of [0, 1, 2, 3, 4]) assert.deepEqual(await s.answer(10 + i), { kind: FRAME_KIND.response, value: i });
    const other = new TextEncoder().encode(JSON.stringify(envelope({ payload: "forged" })));
    s.stream.send(encodeFrame(FRAME_KIND.request, 20, [encodeRequestAuth(signature, 5, 1, proofs[1]), other]));
    s.stream.send(encodeFrame(FRAME_KIND.request, 21, [encodeRequestAuth(signature, 5, 2, proofs[1]), bodies[1]!]));
    s.stream.send(encodeFrame(FRAME_KIND.request, 22, [encodeRequestAuth(signature, 4, 1, proofs[1]), bodies[1]!]));
    s.stream.send(encodeFrame(FRAME_KIND.request, 23, [encodeRequestAuth(signature, 5, 0, proofs[0]!.slice(1)), bodies[0]!]));
    for (const id of [20, 21, 22, 23]) assert.equal(await s.code(id), "BUS_BAD_SIGNATURE");
  });

  test("oversize and huge frames are skipped and answered; the stream keeps working", async () => {
    const s = await open();
    s.stream.send(requestFrame(1, keyA, envelope({ payload: "x".repeat(8192) })));
    assert.equal(await s.code(1), "BUS_MESSAGE_TOO_LARGE");
    // A frame that claims 64 MiB, followed by 2 MiB of it in pieces: never buffered, never parsed.
    const header = encodeFrame(FRAME_KIND.request, 2, [new Uint8Array(0)]);
    const claimed = 64 * 1024 * 1024;
    const prefix = [(claimed & 0x7f) | 0x80, ((claimed >> 7) & 0x7f) | 0x80, ((claimed >> 14) & 0x7f) | 0x80, (claimed >> 21) & 0x7f];
    s.stream.send(Uint8Array.from([...prefix, ...header.subarray(1)]));
    for (let i = 0; i < 32; i++) s.stream.send(randomBytes(64 * 1024));
    assert.equal(await s.code(2), "BUS_MESSAGE_TOO_LARGE");
    const sane = await open();
    sane.stream.send(requestFrame(3, keyA, envelope()));
    assert.equal(await sane.code(3), "OK");
  });

  test("garbage JSON, wrong frame kinds and short frames get BUS_BAD_REQUEST", async () => {
    const s = await open();
    s.stream.send(encodeFrame(FRAME_KIND.request, 1, [encodeRequestAuth(new Uint8Array(65)), new TextEncoder().encode("{not json")]));
    s.stream.send(encodeFrame(FRAME_KIND.response, 2, [new TextEncoder().encode("{}")]));
    s.stream.send(encodeFrame(FRAME_KIND.request, 3, [new Uint8Array(10)]));
    s.stream.send(encodeFrame(FRAME_KIND.request, 4, [encodeRequestAuth(new Uint8Array(65)), new TextEncoder().encode('{"uid":1}')]));
    for (const id of [1, 2, 3, 4]) assert.equal(await s.code(id), "BUS_BAD_REQUEST");
  });

  test("random bytes on a stream close that stream only; the peer keeps serving", async () => {
    for (let round = 0; round < 5; round++) {
      const s = await open();
      const closed = new Promise((r) => s.stream.addEventListener("close", r));
      s.stream.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
      s.stream.send(randomBytes(1000));
      await closed;
    }
    const s = await open();
    s.stream.send(requestFrame(1, keyA, envelope()));
    assert.equal(await s.code(1), "OK");
    assert.deepEqual(await c.request(2, "echo", [1]), [1]);
  });

  test("a peer whose id is not a secp256k1 key (no twin can have it) is refused", async (t) => {
    const stranger = await createLibp2p({ privateKey: await generateKeyPair("Ed25519"), transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    t.after(() => stranger.stop());
    const s = new RawStream(await stranger.dialProtocol(multiaddr(b.addresses()[0]!), BUS_PROTOCOL));
    s.stream.send(requestFrame(1, keyA, envelope()));
    assert.equal(await s.code(1), "BUS_SOURCE_MISMATCH");
  });

  after(async () => {
    await raw?.stop();
    await grid?.close();
  });
});
