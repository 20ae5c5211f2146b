import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Bus } from "./create-bus.ts";
import { TestGrid, testTwinRecord } from "./testing/test-twins.ts";

async function reachableThroughRelay(bus: Bus): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!bus.addresses().some((a) => a.includes("/p2p-circuit"))) {
    if (Date.now() > deadline) throw new Error(`twin ${bus.twinId} got no relay reservation`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("relay: peers with no public address are reached through a circuit relay", () => {
  test("A and B know only R: requests both ways go through R, with no data or time cap", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const relay = await grid.bus({ relay: { server: true } });
    const relayAddr = relay.addresses()[0]!;
    // No listen address at all: the only way in is the reservation on R.
    const a = await grid.bus({ listen: [], relay: { reserveOn: [relayAddr] } });
    // B is given no relay option: it reserves on the relays listed in its own twin record.
    grid.directory.set(testTwinRecord(3, [], [relayAddr]));
    const b = await grid.bus({ twinId: 3, listen: [] });
    await reachableThroughRelay(a);
    await reachableThroughRelay(b);
    assert.deepEqual((await grid.directory.getTwin(b.twinId))!.addrs, []);

    b.handle("echo", (p: unknown) => p);
    a.handle("whoami", (_p: unknown, ctx) => ctx.twinId);
    assert.deepEqual(await a.request(b.twinId, "echo", { via: "relay" }, { timeout: 15_000 }), { via: "relay" });
    assert.equal(await b.request(a.twinId, "whoami", null, { timeout: 15_000 }), b.twinId);
    const connections = a.node!.getConnections(peerIdFromString(b.peerId));
    assert.ok(connections.length > 0 && connections.every((c) => c.remoteAddr.toString().includes("/p2p-circuit")));

    // More than the circuit relay default cap (128 KiB per relayed connection) goes through.
    const chunk = "z".repeat(100 * 1024);
    for (let i = 0; i < 4; i++) assert.equal(((await a.request(b.twinId, "echo", chunk)) as string).length, chunk.length);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => a.request(b.twinId, "echo", i)));
    assert.deepEqual(answers, Array.from({ length: 200 }, (_, i) => i));
  });

  test("relay users never send the relay a bus request, and the relay's stranger idle close leaves them alone", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const relay = await grid.bus({ relay: { server: true }, limits: { unprovenIdleMs: 500 } });
    const relayAddr = relay.addresses()[0]!;
    grid.directory.set(testTwinRecord(3, [], [relayAddr]));
    const b = await grid.bus({ twinId: 3, listen: [] });
    const a = await grid.bus({ listen: [] });
    await reachableThroughRelay(b);
    b.handle("echo", (p: unknown) => p);
    assert.equal(await a.request(b.twinId, "echo", 1, { timeout: 15_000 }), 1);
    await new Promise((r) => setTimeout(r, 2_000));
    const before = a.node!.getConnections(peerIdFromString(b.peerId))[0]!;
    assert.equal(await a.request(b.twinId, "echo", 2, { timeout: 15_000 }), 2);
    assert.equal(a.node!.getConnections(peerIdFromString(b.peerId))[0], before, "the relayed connection survived");
    assert.equal(relay.metrics().guard.closedIdle, 0);
    assert.equal(relay.metrics().guard.unprovenConnections, 0);
  });

  test("a relay down at start or restarted: the peer reserves again and is reachable again", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const first = await grid.bus({ twinId: 1, relay: { server: true } });
    const relayAddr = first.addresses()[0]!;
    const listen = [relayAddr.replace(/\/p2p\/.*$/, "")];
    await first.stop();
    // R is down: B still starts, and keeps trying.
    grid.directory.set(testTwinRecord(3, [], [relayAddr]));
    const b = await grid.bus({ twinId: 3, listen: [], relay: { checkIntervalMs: 200 } });
    b.handle("echo", (p: unknown) => p);
    const a = await grid.bus({ twinId: 2, listen: [] });
    const second = await grid.bus({ twinId: 1, relay: { server: true }, listen });
    await reachableThroughRelay(b);
    assert.equal(await a.request(3, "echo", "one", { timeout: 20_000 }), "one");
    // R restarts: B loses its reservation, takes a new one; A's request waits for it.
    await second.stop();
    await grid.bus({ twinId: 1, relay: { server: true }, listen });
    assert.equal(await a.request(3, "echo", "two", { timeout: 20_000 }), "two");
  });

  test("relays added to a twin's record later are reserved on (twin-updated event)", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const relay = await grid.bus({ relay: { server: true } });
    const b = await grid.bus({ listen: [] });
    assert.deepEqual(b.addresses(), []);
    grid.directory.set(testTwinRecord(b.twinId, [], [relay.addresses()[0]!]));
    await reachableThroughRelay(b);
  });
});
