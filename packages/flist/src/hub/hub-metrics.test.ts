import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { attachHubMetrics, walkStore } from "./hub-metrics.ts";
import { startHub } from "./hub-server.ts";

test("hub metrics: /metrics counts block hits and misses, flist requests and bytes; the hub still answers", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "zgrid-hub-metrics-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const hub = await startHub({ dataDir: join(dir, "hub") });
  t.after(() => hub.close());
  attachHubMetrics(hub, { blocksDir: join(dir, "hub", "blocks") });
  const missing = "ab" + "0".repeat(62);
  assert.equal((await fetch(`${hub.url}/blocks/ab/${missing}`)).status, 404);
  const listing = await fetch(`${hub.url}/flists`);
  assert.equal(listing.status, 200);
  const body = await listing.text();
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  assert.match(text, /^zgrid_hub_requests_total\{kind="block_get",status="miss"\} 1$/m);
  assert.match(text, /^zgrid_hub_requests_total\{kind="flist",status="ok"\} 1$/m);
  const sent = Number(/^zgrid_hub_bytes_sent_total (\d+)$/m.exec(text)?.[1]);
  assert.ok(sent >= Buffer.byteLength(body), `bytes sent ${sent} cover the listing's ${Buffer.byteLength(body)}`);
  assert.deepEqual(await walkStore(join(dir, "hub", "blocks")), { blocks: 0, bytes: 0 });
});
