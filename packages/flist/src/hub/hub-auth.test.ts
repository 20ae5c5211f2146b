import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { encodeBlock } from "../format/block-codec.ts";
import { toHex } from "../format/hash.ts";
import { signFlist } from "../sign/sign-flist.ts";
import { writeDirListing } from "../testing/hostile-listing.ts";
import { StoreError } from "../errors/flist-errors.ts";
import { packFlist } from "../pack/pack-flist.ts";
import { makeSampleTree } from "../testing/sample-tree.ts";
import { signHubRequest } from "./hub-auth.ts";
import { pushFlist } from "./hub-client.ts";
import { startHub } from "./hub-server.ts";

const alice = twinKeyFromPrivateKey("0x" + "21".repeat(32));
const mallory = twinKeyFromPrivateKey("0x" + "22".repeat(32));

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-hub-auth-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("hub: block PUTs need a twin's signature, a known twin, and fit a per-twin quota; .fl PUTs need the owner's signature", async (t) => {
  const dir = tmp(t);
  const hub = await startHub({ dataDir: join(dir, "hub"), knownTwin: (a) => a.toLowerCase() !== mallory.address.toLowerCase(), maxBytesPerTwin: 1_000_000 });
  t.after(() => hub.close());
  const block = encodeBlock(Buffer.alloc(300_000, 7));
  const path = `/blocks/${toHex(block.id).slice(0, 2)}/${toHex(block.id)}`;
  const put = (headers: Record<string, string>, body: Uint8Array = block.data): Promise<Response> => fetch(`${hub.url}${path}`, { method: "PUT", body, headers });
  const error = async (r: Response): Promise<string> => ((await r.json()) as { error: string }).error;

  let r = await put({});
  assert.equal(r.status, 401);
  assert.match(await error(r), /missing x-zgrid-auth header/);
  r = await put(signHubRequest(alice, "PUT", "/blocks/00/" + "00".repeat(32)));
  assert.equal(r.status, 401, "a signature for another path");
  assert.match(await error(r), /does not match/);
  r = await put(signHubRequest(alice, "PUT", path, Date.now() - 3600_000));
  assert.equal(r.status, 401, "an old signature");
  r = await put(signHubRequest(mallory, "PUT", path));
  assert.equal(r.status, 403);
  assert.match(await error(r), /not known to this hub/);
  r = await put(signHubRequest(alice, "PUT", path), Buffer.alloc(17 * 2 ** 20));
  assert.equal(r.status, 413, "body over the block size limit");
  assert.equal((await put(signHubRequest(alice, "PUT", path))).status, 201);
  assert.equal((await put(signHubRequest(alice, "PUT", path))).status, 200, "a block the hub has costs nothing");
  // Quota: 1 MB per twin; each of these blocks is ~300 KB of incompressible data.
  let status = 0;
  for (let i = 0; i < 5 && status !== 413; i++) {
    const b = encodeBlock(Buffer.from(Array.from({ length: 300_000 }, () => Math.floor(Math.random() * 256))));
    const p = `/blocks/${toHex(b.id).slice(0, 2)}/${toHex(b.id)}`;
    status = (await fetch(`${hub.url}${p}`, { method: "PUT", body: b.data, headers: signHubRequest(alice, "PUT", p) })).status;
  }
  assert.equal(status, 413, "over the per-twin quota");

  // pushFlist signs its block uploads with the key; without a key the hub refuses.
  const open = await startHub({ dataDir: join(dir, "hub2") });
  t.after(() => open.close());
  makeSampleTree(join(dir, "src"), { bigFileBytes: 600_000 });
  const fl = join(dir, "app.fl");
  await packFlist({ source: join(dir, "src"), output: fl, stores: [`dir://${join(dir, "local")}`] });
  await signFlist(fl, alice);
  await assert.rejects(pushFlist({ hub: open.url, flist: fl }), (e: unknown) => e instanceof StoreError && /missing x-zgrid-auth/.test(e.message));
  const pushed = await pushFlist({ hub: open.url, flist: fl, key: alice });
  assert.ok(pushed.uploadedBlocks > 0);
  // The .fl under another twin's address is refused even with every block present.
  const res = await fetch(`${open.url}/flists/${mallory.address}/app.fl`, { method: "PUT", body: readFileSync(fl) });
  assert.equal(res.status, 403);
  assert.match(await error(res), /not a trusted signer/);
  assert.deepEqual(readdirSync(join(dir, "hub2", "tmp")), [], "refused uploads leave nothing");
});

test("hub: a huge listing is validated in a worker thread; the hub keeps answering other requests meanwhile", async (t) => {
  const dir = tmp(t);
  const hub = await startHub({ dataDir: join(dir, "hub") });
  t.after(() => hub.close());
  const fl = writeDirListing(join(dir, "huge.fl"), { dirs: 100_000 });
  await signFlist(fl, alice);
  const body = readFileSync(fl);
  let uploadDone = 0;
  const upload = fetch(`${hub.url}/flists/${alice.address}/huge.fl`, { method: "PUT", body }).then(async (r) => {
    uploadDone = performance.now();
    return r;
  });
  // Probe while the upload is being validated.
  await new Promise((r) => setTimeout(r, 300));
  const latencies: number[] = [];
  const probesEnd: number[] = [];
  for (let i = 0; i < 10 && uploadDone === 0; i++) {
    const started = performance.now();
    const r = await fetch(`${hub.url}/flists`);
    assert.equal(r.status, 200);
    await r.json();
    latencies.push(performance.now() - started);
    probesEnd.push(performance.now());
    await new Promise((res) => setTimeout(res, 50));
  }
  const res = await upload;
  assert.equal(res.status, 201, await res.clone().text());
  assert.ok(latencies.length > 0 && probesEnd[0]! < uploadDone, "at least one probe was answered while the listing was being validated");
  t.diagnostic(`probe latencies while validating 100,000 dirs: ${latencies.map((l) => l.toFixed(0)).join(", ")} ms`);
  assert.ok(Math.max(...latencies) < 2000, `the hub stalled for ${Math.max(...latencies)} ms`);
});
