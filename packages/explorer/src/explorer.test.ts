import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestGrid, testHash, type TestGrid } from "@zgrid/chain/testing";
import { startExplorer, type Explorer } from "./explorer.ts";
import { BACKENDS, TestDatabases } from "./testing/db-backends.ts";
import { NodePeers } from "./testing/node-peers.ts";

const GIB = 2 ** 30;
const dbs = new TestDatabases();
let grid: TestGrid;

before(async () => { grid = await startTestGrid(); });
after(async () => {
  await grid?.stop();
  await dbs.close();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Page = { total: number; items: { id: number; status: string; free: { mru: number }; version: string }[] };

for (const backend of BACKENDS) {
  describe(`explorer on ${backend}: liveness + REST API`, { concurrency: false }, () => {
    let explorer: Explorer;
    let peers: NodePeers;
    const get = async <T>(path: string) => {
      const r = await fetch(explorer.url + path);
      return { status: r.status, body: (await r.json()) as T, etag: r.headers.get("etag") };
    };

    before(async () => {
      peers = new NodePeers(grid.chain);
      await peers.start(grid.chain.twins[1]!.twinId, true);
      await peers.start(grid.chain.twins[2]!.twinId, true);
      const me = await peers.start(grid.chain.twins[4]!.twinId, false);
      await grid.node1.reportUptime(10n, await grid.now());
      await grid.node2.reportUptime(10n, await grid.now());
      explorer = await startExplorer({
        db: await dbs.url(backend), rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses, bus: me,
        indexPollMs: 100, livenessIntervalMs: 300, livenessTimeoutMs: 700, windows: { liveWindowMs: 2_500 },
      });
    });
    after(async () => {
      await explorer?.stop();
      await peers?.close();
    });

    test("nodes that answer and report uptime are up, with the free capacity they report", async () => {
      const up = await until("2 nodes up", async () => {
        const r = await get<Page>("/api/v1/nodes?status=up");
        return r.body.total === 2 ? r.body : undefined;
      });
      assert.deepEqual(up.items.map((n) => n.id), [grid.nodeId1, grid.nodeId2]);
      assert.equal(up.items[0]!.free.mru, 60 * GIB);
      assert.equal(up.items[0]!.version, "0.1.0-test");
    });

    test("filters, sorting, pagination, ETags and clear 400s", async () => {
      peers.used.set(grid.chain.twins[1]!.twinId, { cru: 2, mru: 8 * GIB, sru: 0, hru: 0 });
      await until("node 1 reports used memory", async () => ((await get<Page>(`/api/v1/nodes/${grid.nodeId1}`)).body as unknown as Page["items"][0]).free.mru === 52 * GIB || undefined);
      assert.deepEqual((await get<Page>(`/api/v1/nodes?free_mru=${55 * GIB}`)).body.items.map((n) => n.id), [grid.nodeId2]);
      assert.deepEqual((await get<Page>("/api/v1/nodes?country=be")).body.items.map((n) => n.id), [grid.nodeId1]);
      assert.deepEqual((await get<Page>("/api/v1/nodes?city=Ghent&farm_id=1&free_ips=1")).body.items.map((n) => n.id), [grid.nodeId1]);
      assert.equal((await get<Page>("/api/v1/nodes?domain=true")).body.total, 0);
      assert.equal((await get<Page>("/api/v1/nodes?rented=false")).body.total, 2);
      assert.deepEqual((await get<Page>("/api/v1/nodes?sort_by=free_mru&sort_order=desc")).body.items.map((n) => n.id), [grid.nodeId2, grid.nodeId1]);
      const p2 = await get<Page>("/api/v1/nodes?size=1&page=2");
      assert.deepEqual([p2.body.total, p2.body.items.map((n) => n.id)], [2, [grid.nodeId2]]);
      for (const [q, msg] of [["size=1000", /'size' must be a whole number from 1 to 100/], ["status=alive", /'status' must be one of up, down, standby/],
        ["free_mru=-1", /'free_mru' must be a whole number/], ["color=red", /unknown query parameter 'color'/], ["country=" + "x".repeat(100), /longer than 64/],
        ["page=1&page=2", /given 2 times/]] as const) {
        const r = await get<{ code: string; message: string }>(`/api/v1/nodes?${q}`);
        assert.equal(r.status, 400, q);
        assert.match(r.body.message, msg);
      }
      assert.equal((await get("/api/v1/nodes/999")).status, 404);
      assert.equal((await fetch(`${explorer.url}/api/v1/nodes?x=${"a".repeat(3000)}`)).status, 414);
      const farm = await get<{ name: string; public_ips: unknown[] }>(`/api/v1/farms/${grid.farmId}`);
      assert.equal(farm.body.name, "farm-one");
      assert.equal(farm.body.public_ips.length, 3);
      const first = await get("/api/v1/farms");
      assert.ok(first.etag);
      const again = await fetch(`${explorer.url}/api/v1/farms`, { headers: { "if-none-match": first.etag } });
      assert.equal(again.status, 304);
      const doc = await get<{ openapi: string; paths: Record<string, unknown> }>("/api/v1/openapi.json");
      assert.equal(doc.body.openapi, "3.1.0");
      assert.ok(doc.body.paths["/api/v1/nodes"] && doc.body.paths["/api/v1/contracts"] && doc.body.paths["/api/v1/nodes/{id}"]);
      const metrics = await (await fetch(`${explorer.url}/metrics`)).text();
      assert.match(metrics, /^zgrid_explorer_index_lag_blocks \d+$/m);
    });

    test("a contract created now appears under its twin with its cost per hour", async () => {
      const id = await grid.user.createNodeContract({ nodeId: grid.nodeId1, deploymentHash: testHash(Math.floor(Math.random() * 1e9)), publicIps: 1 });
      const userTwin = grid.chain.twins[3]!.twinId;
      const c = await until("the contract indexed", async () =>
        (await get<{ items: { id: number; state: string; cost_per_hour_units: number; public_ips: number }[] }>(`/api/v1/contracts?twin_id=${userTwin}&state=created`)).body.items.find((x) => x.id === id));
      assert.equal(c.public_ips, 1);
      assert.ok(c.cost_per_hour_units > 0, "a public IP costs");
      const stats = await get<{ contracts: { active: number }; nodes: { up: number } }>("/api/v1/stats");
      assert.ok(stats.body.contracts.active >= 1);
      await grid.user.cancelContract(id);
    });

    test("a node that stops answering goes down within the window, is never returned as up, and SSE says so", async () => {
      const events = await fetch(`${explorer.url}/api/v1/events`);
      const reader = events.body!.getReader();
      const seen = (async () => {
        let text = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return text;
          text += new TextDecoder().decode(value);
          if (/event: nodes\ndata: \{"changed":\[[^\]]*\b2\b/.test(text)) return text;
        }
      })();
      const stoppedAt = Date.now();
      await peers.stop(grid.chain.twins[2]!.twinId);
      await until("node 2 down", async () => ((await get<{ status: string }>(`/api/v1/nodes/${grid.nodeId2}`)).body.status === "down" || undefined), 10_000);
      assert.ok(Date.now() - stoppedAt < 10_000);
      assert.deepEqual((await get<Page>("/api/v1/nodes?status=up")).body.items.map((n) => n.id), [grid.nodeId1]);
      assert.deepEqual((await get<Page>("/api/v1/nodes?status=down")).body.items.map((n) => n.id), [grid.nodeId2]);
      assert.equal((await get<Page>("/api/v1/nodes?status=up&page=5")).body.total, 1, "the total also past the last page");
      assert.match(await seen, /event: nodes/);
      await reader.cancel();
      const stats = await get<{ nodes: { up: number; down: number } }>("/api/v1/stats");
      assert.deepEqual([stats.body.nodes.up, stats.body.nodes.down], [1, 1]);
    });

    test("a node its farmer put in standby is standby, not up", async () => {
      await grid.farmer.setPowerTarget(grid.nodeId1, false);
      try {
        await until("node 1 standby", async () => ((await get<{ status: string }>(`/api/v1/nodes/${grid.nodeId1}`)).body.status === "standby" || undefined));
        assert.equal((await get<Page>("/api/v1/nodes?status=up")).body.total, 0);
        assert.equal((await get<Page>("/api/v1/nodes?status=standby")).body.total, 1);
      } finally {
        await grid.farmer.setPowerTarget(grid.nodeId1, true);
      }
    });
  });
}
