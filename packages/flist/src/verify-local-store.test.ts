import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistReader } from "./format/flist-reader.ts";
import { DecodePool } from "./format/decode-pool.ts";
import { encodeBlock } from "./format/block-codec.ts";
import { blockPath, type BlockStore } from "./store/block-store.ts";
import { DirStore } from "./store/dir-store.ts";
import { openStores } from "./store/router-store.ts";
import { packFlist } from "./pack/pack-flist.ts";
import { verifyFlist } from "./verify-flist.ts";

/** A real DirStore seen as a remote store (no local paths), counting the blocks read through `get()`. */
class CountingStore implements BlockStore {
  readonly inner: DirStore;
  gets = 0;
  constructor(root: string) { this.inner = new DirStore(root); }
  get url(): string { return this.inner.url; }
  get(id: Uint8Array): Promise<Uint8Array> { this.gets++; return this.inner.get(id); }
  set(id: Uint8Array, data: Uint8Array): Promise<void> { return this.inner.set(id, data); }
  has(id: Uint8Array): Promise<boolean> { return this.inner.has(id); }
}
/** The same with the DirStore's local paths. */
class CountingLocalStore extends CountingStore {
  localPaths(id: Uint8Array): string[] { return this.inner.localPaths(id); }
}

async function packed(t: { after(fn: () => void): void }): Promise<{ dir: string; fl: string; store: string; ids: Uint8Array[] }> {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-verify-local-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "src"));
  // 40 files of one distinct block each: past the 32 blocks from which verify uses worker threads.
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, "src", `f${i}`), Buffer.alloc(20_000 + i, i));
  const fl = join(dir, "a.fl");
  const store = join(dir, "store");
  await packFlist({ source: join(dir, "src"), output: fl, stores: [`dir://${store}`], xattrs: false });
  const reader = FlistReader.open(fl);
  const ids = reader.allBlocks().map((b) => b.id);
  reader.close();
  return { dir, fl, store, ids };
}

test("verify: the worker threads read a dir:// store's blocks themselves; the caller's thread reads none", async (t) => {
  const { fl, store, ids } = await packed(t);
  const local = new CountingLocalStore(store);
  const r = await verifyFlist({ flist: fl, stores: local, threads: 2 });
  assert.equal(r.ok, true);
  assert.equal(r.blocks, 40);
  assert.equal(r.bytes, Array.from({ length: 40 }, (_, i) => 20_000 + i).reduce((a, b) => a + b));
  assert.equal(local.gets, 0, "no block went through the caller's thread");
  // A store that is not a local directory: every block through get(), same verdict.
  const remote = new CountingStore(store);
  const r2 = await verifyFlist({ flist: fl, stores: remote, threads: 2 });
  assert.deepEqual([r2.ok, r2.blocks, r2.bytes], [true, 40, r.bytes]);
  assert.equal(remote.gets, ids.length);
  // Through a router of stores (the flist's routes), the sharded layout (rfs's development branch) too.
  for (const id of ids.slice(0, 5)) {
    const hex = Buffer.from(id).toString("hex");
    mkdirSync(join(store, hex.slice(0, 2)), { recursive: true });
    renameSync(join(store, hex), join(store, blockPath(id)));
  }
  assert.equal((await verifyFlist({ flist: fl, stores: openStores([`dir://${store}`]), threads: 2 })).ok, true);
});

test("verify reading in workers: a tampered, a missing and an oversized block file are each reported with their reason", async (t) => {
  const { fl, store, ids } = await packed(t);
  const [tampered, missing, huge] = ids.map((id) => join(store, Buffer.from(id).toString("hex")));
  const bytes = readFileSync(tampered!);
  bytes[5] = bytes[5]! ^ 1;
  writeFileSync(tampered!, bytes);
  rmSync(missing!);
  truncateSync(huge!, 100 * 1024 * 1024); // sparse: a file larger than any encoded block
  const local = new CountingLocalStore(store);
  const r = await verifyFlist({ flist: fl, stores: local, threads: 2 });
  assert.equal(r.ok, false);
  assert.equal(r.blocks, 37);
  const reason = (id: Uint8Array) => r.failures.find((f) => f.id === Buffer.from(id).toString("hex"))?.reason;
  assert.match(reason(ids[0]!) ?? "", /content hash does not match id/);
  assert.match(reason(ids[1]!) ?? "", /not found/);
  assert.match(reason(ids[2]!) ?? "", /104857600 bytes, larger than any block can be/);
  assert.equal(local.gets, 1, "only the block no worker could open was asked of the store");
});

test("decode pool: verifyFile reads the first path that opens, and answers undefined when none does or without workers", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-verify-file-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pool = new DecodePool(1);
  t.after(() => pool.close());
  const b = encodeBlock(Buffer.alloc(3_000_000, 5)); // larger than the worker's first buffer
  writeFileSync(join(dir, "b"), b.data);
  assert.deepEqual(await pool.verifyFile(b.id, b.key, [join(dir, "nope"), join(dir, "b")]), { bytes: 3_000_000 });
  assert.equal(await pool.verifyFile(b.id, b.key, [join(dir, "nope")]), undefined);
  assert.equal(await new DecodePool(0).verifyFile(b.id, b.key, [join(dir, "b")]), undefined);
  const small = encodeBlock(Buffer.alloc(10, 1));
  writeFileSync(join(dir, "s"), small.data);
  assert.deepEqual(await pool.verifyFile(small.id, small.key, [join(dir, "s")]), { bytes: 10 }, "a smaller block after a larger one: only its own bytes");
});
