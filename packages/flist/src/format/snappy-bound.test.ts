import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import { BlockFetcher } from "../mount/block-fetcher.ts";
import { DirStore } from "../store/dir-store.ts";
import { decodeBlock, encodeBlock } from "./block-codec.ts";
import { blake2b256 } from "./hash.ts";
import { snappyDeclaredLength } from "./snappy-validate.ts";

/** A block addressed and encrypted like a real one (a signer's), around any compressed stream. */
function sealed(compressed: Uint8Array): { id: Uint8Array; key: Uint8Array; data: Buffer } {
  const key = blake2b256(compressed);
  const cipher = createCipheriv("aes-256-gcm", key, key.subarray(0, 12));
  const data = Buffer.concat([cipher.update(compressed), cipher.final(), cipher.getAuthTag()]);
  return { id: blake2b256(data), key, data };
}

// Snappy header 0xffffffff (5-byte varint), then one literal byte: the native decoder would
// allocate 4 GiB before finding the stream short.
const HOSTILE_4G = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41]);

test("snappy header: the claimed length is read without decoding; cut or over-long headers give -1", () => {
  assert.equal(snappyDeclaredLength(HOSTILE_4G), 0xffffffff);
  assert.equal(snappyDeclaredLength(Uint8Array.from([0x80, 0x80, 0x20])), 0x20 << 14);
  assert.equal(snappyDeclaredLength(Uint8Array.from([0x80, 0x80])), -1, "cut varint");
  assert.equal(snappyDeclaredLength(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), -1, "6-byte varint");
  assert.equal(snappyDeclaredLength(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x1f])), -1, "above 2^32 - 1");
});

test("a hostile block whose Snappy header claims 4 GiB is refused before the native decoder allocates it", () => {
  const b = sealed(HOSTILE_4G);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => decodeBlock(b.id, b.key, b.data), (e: unknown) => e instanceof BlockIntegrityError && /claims 4294967295 uncompressed bytes \(at most 67108864\)/.test(e.message));
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, "no buffer of the claimed size was made");
});

test("the bound is the flist's block size: a block decompressing to one byte more is refused, within it decodes", () => {
  const blockSize = 512 * 1024;
  const over = encodeBlock(Buffer.alloc(blockSize + 1, 7));
  assert.throws(() => decodeBlock(over.id, over.key, over.data, blockSize), (e: unknown) => e instanceof BlockIntegrityError && /claims 524289 uncompressed bytes \(at most 524288\)/.test(e.message));
  assert.equal(decodeBlock(over.id, over.key, over.data, 2 * blockSize).length, blockSize + 1);
  const full = encodeBlock(Buffer.alloc(blockSize, 9));
  assert.equal(decodeBlock(full.id, full.key, full.data, blockSize).length, blockSize);
});

test("the mount's fetcher refuses a block above its flist's block size from a store, and counts the failure", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-snappy-bound-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new DirStore(dir);
  const hostile = sealed(HOSTILE_4G);
  const big = encodeBlock(Buffer.alloc(8192 + 1, 3));
  await store.set(hostile.id, hostile.data);
  await store.set(big.id, big.data);
  const fetcher = new BlockFetcher({ store, maxBlockSize: 8192 });
  await assert.rejects(fetcher.get({ id: hostile.id, key: hostile.key }), /claims 4294967295/);
  await assert.rejects(fetcher.get({ id: big.id, key: big.key }), /claims 8193 uncompressed bytes \(at most 8192\)/);
  assert.equal(fetcher.metrics.verifyFailures, 2);
  assert.equal((await new BlockFetcher({ store }).get({ id: big.id, key: big.key })).length, 8193, "without the bound (64 MiB) it decodes");
});
