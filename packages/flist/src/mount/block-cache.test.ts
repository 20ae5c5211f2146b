import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import { encodeBlock } from "../format/block-codec.ts";
import { blockPath, type BlockStore } from "../store/block-store.ts";
import { DirStore } from "../store/dir-store.ts";
import { BlockCache } from "./block-cache.ts";
import { BlockFetcher } from "./block-fetcher.ts";

function blocks(n: number, size = 10_000): Array<ReturnType<typeof encodeBlock>> {
  return Array.from({ length: n }, (_, i) => encodeBlock(Buffer.from(`${i}:`.padEnd(size, String.fromCharCode(65 + (i % 26))))));
}

/** A real DirStore that counts gets (to observe single-flight). */
class CountingStore implements BlockStore {
  readonly inner: DirStore;
  gets = 0;
  constructor(root: string) { this.inner = new DirStore(root); }
  get url(): string { return this.inner.url; }
  async get(id: Uint8Array): Promise<Uint8Array> { this.gets++; await new Promise((r) => setTimeout(r, 5)); return this.inner.get(id); }
  set(id: Uint8Array, data: Uint8Array): Promise<void> { return this.inner.set(id, data); }
  has(id: Uint8Array): Promise<boolean> { return this.inner.has(id); }
}

test("the disk cache stays under its cap, evicting least recently used blocks; a new process sees the same files", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-cache-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bs = blocks(10);
  const size = bs[0]!.data.length;
  const cache = new BlockCache({ dir, maxBytes: size * 4 + 10 });
  for (const b of bs.slice(0, 4)) cache.put(b.id, b.data);
  assert.ok(cache.get(bs[0]!.id), "touch block 0: now most recent");
  cache.put(bs[4]!.id, bs[4]!.data); // evicts block 1, the least recently used
  assert.equal(cache.count, 4);
  assert.ok(cache.bytes <= cache.maxBytes);
  assert.equal(cache.get(bs[1]!.id), undefined);
  assert.ok(cache.get(bs[0]!.id));
  for (const b of bs.slice(5)) cache.put(b.id, b.data);
  assert.ok(cache.bytes <= cache.maxBytes);
  const again = new BlockCache({ dir, maxBytes: size * 4 + 10 });
  assert.equal(again.count, 4);
  assert.ok(again.get(bs[9]!.id));
  const small = new BlockCache({ dir, maxBytes: size * 2 });
  assert.equal(small.count, 2, "a smaller cap evicts at start");
});

test("fetcher: one download per block for concurrent readers, verified cache hits, corrupt cache entries replaced", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-fetcher-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new CountingStore(join(dir, "store"));
  const bs = blocks(3);
  for (const b of bs) await store.set(b.id, b.data);
  const cache = new BlockCache({ dir: join(dir, "cache"), maxBytes: 2 ** 20 });
  const fetcher = new BlockFetcher({ store, cache, memoryBlocks: 1 });
  const results = await Promise.all(Array.from({ length: 10 }, () => fetcher.get(bs[0]!)));
  assert.equal(store.gets, 1, "single-flight");
  assert.ok(results.every((r) => r.equals(results[0]!)));
  await fetcher.get(bs[1]!); // pushes block 0 out of the 1-block memory cache
  await fetcher.get(bs[0]!);
  assert.equal(store.gets, 2);
  assert.equal(fetcher.metrics.cacheHits, 1);

  // Corrupt the cached copy of block 0: it is detected, dropped, re-fetched from the store.
  writeFileSync(join(dir, "cache", blockPath(bs[0]!.id)), Buffer.from("garbage"));
  await fetcher.get(bs[1]!);
  const plain = await fetcher.get(bs[0]!);
  assert.equal(plain.toString().slice(0, 2), "0:");
  assert.equal(fetcher.metrics.verifyFailures, 1);
  assert.equal(store.gets, 3, "only the corrupt block is downloaded again");

  // A tampered block in the store fails and is never cached.
  const bad = Buffer.from(bs[2]!.data);
  bad[3] = bad[3]! ^ 1;
  await store.set(bs[2]!.id, bad);
  await assert.rejects(fetcher.get(bs[2]!), BlockIntegrityError);
  assert.equal(cache.get(bs[2]!.id), undefined);
  assert.equal(fetcher.metrics.verifyFailures, 2);
});

test("two processes' caches on one directory keep the total under the cap", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-cache-shared-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bs = blocks(140, 2000);
  const cap = bs[0]!.data.length * 6;
  const a = new BlockCache({ dir, maxBytes: cap });
  const b = new BlockCache({ dir, maxBytes: cap });
  for (const x of bs.slice(0, 5)) a.put(x.id, x.data);
  for (const x of bs.slice(5)) b.put(x.id, x.data);
  const onDisk = new BlockCache({ dir, maxBytes: Number.MAX_SAFE_INTEGER });
  assert.ok(onDisk.bytes <= cap, `${onDisk.bytes} bytes on disk, cap ${cap}`);
  assert.ok(b.get(bs[139]!.id), "the most recent block survives");
});
