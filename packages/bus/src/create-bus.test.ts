import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BaseError } from "@zgrid/types";
import { peerIdFromString } from "@libp2p/peer-id";
import { BusConnectionLostError, BusMessageTooLargeError, BusRemoteError, BusStoppedError, BusTimeoutError, BusTwinRecordError, BusUnreachableError } from "./errors/bus-errors.ts";
import { TestGrid, testTwinKey, testTwinRecord } from "./testing/test-twins.ts";

class DeploymentNotFoundError extends BaseError {
  override readonly code = "DEPLOYMENT_NOT_FOUND";
}

describe("createBus: request/response between real libp2p peers on loopback", () => {
  test("a request reaches the handler with the verified caller and the answer comes back", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const [a, b] = await grid.buses(2);
    b!.handle("zos.deployment.get", (payload: { contract_id: number }, ctx) => ({ contract_id: payload.contract_id, caller: ctx.twinId, account: ctx.account, peer: ctx.peerId }));
    const answer = await a!.request<{ contract_id: number; caller: number; account: string; peer: string }>(b!.twinId, "zos.deployment.get", { contract_id: 7 }, { timeout: 10_000 });
    assert.deepEqual(answer, { contract_id: 7, caller: a!.twinId, account: testTwinKey(a!.twinId).address, peer: a!.peerId });
    assert.equal(a!.account, testTwinKey(a!.twinId).address);
    // Requests go both ways over the same pair of peers.
    a!.handle("ping", () => "pong");
    assert.equal(await b!.request(a!.twinId, "ping"), "pong");
  });

  test("WebSocket transport: a peer listening on /ws only is reached there", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const a = await grid.bus();
    const b = await grid.bus({ listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
    assert.ok((await grid.directory.getTwin(b.twinId))!.addrs.every((addr) => addr.includes("/ws")));
    b.handle("echo", (p: unknown) => p);
    assert.deepEqual(await a.request(b.twinId, "echo", { over: "ws" }), { over: "ws" });
    await assert.rejects(a.request(a.twinId, "echo"), BusUnreachableError);
  });

  test("a client with no address at all can call, and be called back over its own connection", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const client = await grid.bus({ listen: [] });
    const node = await grid.bus();
    assert.deepEqual(client.addresses(), []);
    client.handle("notify", (p: { n: number }) => p.n + 1);
    node.handle("hello", async (_p: unknown, ctx) => node.request(ctx.twinId, "notify", { n: 41 }));
    assert.equal(await client.request(node.twinId, "hello"), 42);
  });

  test("1,000 concurrent requests all get their own answer", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const [a, b] = await grid.buses(2);
    b!.handle("double", async (n: number) => {
      await new Promise((r) => setImmediate(r));
      return n * 2;
    });
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => a!.request<number>(b!.twinId, "double", i, { timeout: 60_000 })));
    assert.deepEqual(answers, Array.from({ length: 1000 }, (_, i) => i * 2));
    const out = a!.metrics().outbound;
    assert.equal(out.requests, 1000);
    assert.deepEqual(out.errors, {});
    assert.equal(out.latencyMs.count, 1000);
    assert.equal(b!.metrics().inbound.requests, 1000);
    assert.equal(a!.metrics().channels, 1);
  });

  test("handler errors arrive typed: BaseError keeps code/details/hint, anything else leaks nothing", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const [a, b] = await grid.buses(2);
    b!.handle("typed", () => {
      throw new DeploymentNotFoundError("deployment 9 does not exist", { details: { contract_id: 9 }, hint: "list deployments" });
    });
    b!.handle("untyped", () => {
      throw new Error("secret internal path /var/lib/zos");
    });
    b!.handle("unserialisable", () => ({ n: 1n }));
    await assert.rejects(a!.request(b!.twinId, "typed", {}), (e: unknown) => {
      assert.ok(e instanceof BusRemoteError);
      assert.equal(e.code, "DEPLOYMENT_NOT_FOUND");
      assert.equal(e.shortMessage, "deployment 9 does not exist");
      assert.deepEqual(e.details, { contract_id: 9 });
      assert.equal(e.hint, "list deployments");
      return true;
    });
    await assert.rejects(a!.request(b!.twinId, "untyped", {}), (e: unknown) => {
      assert.ok(e instanceof BusRemoteError);
      assert.equal(e.code, "BUS_INTERNAL");
      assert.doesNotMatch(e.message, /secret|var\/lib|at /);
      return true;
    });
    await assert.rejects(a!.request(b!.twinId, "unserialisable", {}), { code: "BUS_INTERNAL" });
    await assert.rejects(a!.request(b!.twinId, "no.such.command", {}), { name: "BusRemoteError", code: "BUS_UNKNOWN_COMMAND" });
    assert.equal(a!.metrics().outbound.errors["DEPLOYMENT_NOT_FOUND"], 1);
    assert.equal(b!.metrics().inbound.errors["BUS_UNKNOWN_COMMAND"], 1);
  });

  test("a handler that does not answer in time gives a BusTimeoutError, not a hang", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const [a, b] = await grid.buses(2);
    b!.handle("never", () => new Promise(() => {}));
    await assert.rejects(a!.request(b!.twinId, "never", {}, { timeout: 300 }), BusTimeoutError);
    // The channel still works afterwards.
    b!.handle("ok", () => true);
    assert.equal(await a!.request(b!.twinId, "ok"), true);
  });

  test("a connection lost mid-request: the resend is refused as a replay, so the caller learns it may have run", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const [a, b] = await grid.buses(2);
    let runs = 0;
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    b!.handle("slow", async () => {
      runs++;
      if (runs === 1) await gate; // the first call is still running when the connection drops
      return "done";
    });
    const pending = a!.request(b!.twinId, "slow", {}, { timeout: 10_000 });
    while (runs === 0) await new Promise((r) => setTimeout(r, 10));
    await a!.node!.hangUp(peerIdFromString(b!.peerId));
    await assert.rejects(pending, (e: unknown) => e instanceof BusConnectionLostError && e.details.maybeExecuted === true);
    assert.equal(runs, 1, "executed at most once");
    release();
    assert.equal(await a!.request(b!.twinId, "slow"), "done");
  });

  test("stop() fails pending requests and later ones with BusStoppedError", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const [a, b] = await grid.buses(2);
    b!.handle("never", () => new Promise(() => {}));
    const pending = assert.rejects(a!.request(b!.twinId, "never", {}, { timeout: 10_000 }), BusStoppedError);
    await new Promise((r) => setTimeout(r, 100));
    await a!.stop();
    await pending;
    await assert.rejects(a!.request(b!.twinId, "never"), BusStoppedError);
  });

  test("unknown twins, dead peers and bad twin records fail fast and typed", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const [a] = await grid.buses(1);
    await assert.rejects(a!.request(99, "x"), BusUnreachableError);
    grid.directory.set(testTwinRecord(50, ["/ip4/127.0.0.1/tcp/1"]));
    await assert.rejects(a!.request(50, "x", {}, { timeout: 500 }), BusUnreachableError);
    grid.directory.set({ ...testTwinRecord(51), peerId: testTwinRecord(52).peerId });
    await assert.rejects(a!.request(51, "x"), BusTwinRecordError);
  });

  test("messages over the size limit are refused on both sides with a typed error", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const a = await grid.bus({ limits: { maxMessageBytes: 64 * 1024 } });
    const b = await grid.bus({ limits: { maxMessageBytes: 4 * 1024 } });
    b.handle("echo", (p: unknown) => p);
    b.handle("big", () => "x".repeat(10 * 1024));
    await assert.rejects(a.request(b.twinId, "echo", "x".repeat(100 * 1024)), BusMessageTooLargeError);
    await assert.rejects(a.request(b.twinId, "echo", "x".repeat(8 * 1024)), { name: "BusRemoteError", code: "BUS_MESSAGE_TOO_LARGE" });
    await assert.rejects(a.request(b.twinId, "big"), { name: "BusRemoteError", code: "BUS_MESSAGE_TOO_LARGE" });
    assert.equal(await a.request(b.twinId, "echo", "small"), "small");
  });

  test("per-twin rate limiting refuses the excess with BUS_RATE_LIMITED", async (t) => {
    const grid = new TestGrid();
    t.after(() => grid.close());
    const b = await grid.bus({ limits: { rate: { ratePerSecond: 0.001, burst: 5 } } });
    const [a, c] = await grid.buses(2);
    b.handle("ok", () => true);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => a!.request(b.twinId, "ok")));
    const limited = results.filter((r) => r.status === "rejected" && (r.reason as BusRemoteError).code === "BUS_RATE_LIMITED");
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 5);
    assert.equal(limited.length, 15);
    // Another twin has its own bucket.
    assert.equal(await c!.request(b.twinId, "ok"), true);
  });
});
