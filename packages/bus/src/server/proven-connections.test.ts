// Proven inbound connections are bounded in time (idle close) and count (per twin, per IP):
// real buses and raw libp2p peers holding real twin keys, on loopback.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, test } from "node:test";
import type { Libp2p, Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import type { Bus } from "../create-bus.ts";
import { createPeerNode } from "../node/create-peer-node.ts";
import { TestGrid, testTwinKey } from "../testing/test-twins.ts";
import { FRAME_KIND, FrameDecoder, encodeFrame } from "../wire/frame-codec.ts";
import { BUS_PROTOCOL } from "../wire/protocol.ts";
import { encodeRequestAuth } from "../wire/request-auth.ts";
import { signRequest } from "../wire/request-envelope.ts";

/** A raw peer holding twin `twin`'s key proves one connection to `server` with a signed request. */
async function provenRawConnection(server: Bus, twin: number, peers: Libp2p[]): Promise<Stream> {
  const raw = await createPeerNode({ key: testTwinKey(twin), listen: [] });
  peers.push(raw);
  const stream = await raw.dialProtocol(multiaddr(server.addresses()[0]!), BUS_PROTOCOL);
  const now = Date.now();
  const { body, signature } = signRequest(testTwinKey(twin), { uid: randomBytes(16).toString("hex"), timestamp: now, expiration: now + 10_000, source: twin, destination: server.twinId, command: "ping", payload: null });
  const answered = new Promise<void>((resolve, reject) => {
    const decoder = new FrameDecoder({ maxBodyBytes: 1 << 20 });
    stream.addEventListener("message", (e) => {
      for (const f of decoder.push(e.data)) {
        if (f.type !== "frame" || f.id !== 1) continue;
        if (f.kind === FRAME_KIND.response) resolve();
        else reject(new Error(new TextDecoder().decode(f.rest)));
      }
    });
  });
  stream.send(encodeFrame(FRAME_KIND.request, 1, [encodeRequestAuth(signature), body]));
  await answered;
  return stream;
}

const closedSoon = async (stream: Stream, ms = 5_000): Promise<boolean> => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (stream.status !== "open") return true;
    await sleep(25);
  }
  return false;
};

describe("proven bus connections: closed when idle, capped per twin and per IP", () => {
  test("an idle proven connection is closed, never one with a request in flight; the client dials again on its next request", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const server = await grid.bus({ twinId: 2, limits: { provenIdleMs: 400 } });
    const client = await grid.bus({ twinId: 1 });
    server.handle("ping", () => "pong");
    server.handle("slow", async () => {
      await sleep(1_500);
      return "done";
    });
    assert.equal(await client.request(2, "ping"), "pong");
    assert.equal(server.metrics().guard.proven?.provenConnections, 1);

    // A request that runs longer than the idle bound keeps its connection.
    assert.equal(await client.request(2, "slow"), "done");
    assert.equal(server.metrics().guard.proven?.closedIdleProven, 0, "a connection with a request in flight was closed");

    const until = Date.now() + 5_000;
    while (server.metrics().guard.proven?.closedIdleProven === 0 && Date.now() < until) await sleep(50);
    const proven = server.metrics().guard.proven!;
    assert.equal(proven.closedIdleProven, 1, "the idle connection was not closed");
    assert.equal(proven.provenConnections, 0);

    assert.equal(await client.request(2, "ping"), "pong", "the client did not reconnect");
    assert.equal(server.metrics().guard.proven?.provenConnections, 1);
  });

  test("one twin holds at most maxConnectionsPerTwin, one IP maxProvenConnectionsPerIp: the least active goes, the newest stays", async (t) => {
    const grid = new TestGrid();
    const peers: Libp2p[] = [];
    t.after(async () => {
      await Promise.allSettled(peers.map(async (p) => p.stop()));
      await grid.close();
    });
    for (const twin of [1, 3, 4, 5]) await grid.bus({ twinId: twin });
    const server = await grid.bus({ twinId: 2, limits: { maxConnectionsPerTwin: 2, maxProvenConnectionsPerIp: 3 } });
    server.handle("ping", () => "pong");

    // Twin 1 opens three connections (three peers with its key): the oldest is closed.
    const first = await provenRawConnection(server, 1, peers);
    const second = await provenRawConnection(server, 1, peers);
    const third = await provenRawConnection(server, 1, peers);
    assert.ok(await closedSoon(first), "twin 1's oldest connection stayed open");
    assert.equal(second.status, "open");
    assert.equal(third.status, "open");
    assert.equal(server.metrics().guard.proven?.evictedConnections, 1);

    // From one IP (all on loopback): twin 3 makes three (the cap), twin 4 a fourth: the least
    // recently active one (twin 1's second) goes.
    const twin3 = await provenRawConnection(server, 3, peers);
    assert.equal(second.status, "open");
    const twin4 = await provenRawConnection(server, 4, peers);
    assert.ok(await closedSoon(second), "the least active connection from the IP stayed open");
    for (const s of [third, twin3, twin4]) assert.equal(s.status, "open");
    const proven = server.metrics().guard.proven!;
    assert.equal(proven.evictedConnections, 2);
    assert.equal(proven.provenConnections, 3);
    // The server still answers everyone.
    const twin5 = await grid.bus({ twinId: 6 });
    assert.equal(await twin5.request(2, "ping"), "pong");
  });
});
