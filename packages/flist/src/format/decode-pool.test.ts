import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, randomBytes } from "node:crypto";
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import { decodeBlock, encodeBlock } from "./block-codec.ts";
import { blake2b256 } from "./hash.ts";
import { DecodePool, sharedDecodePool } from "./decode-pool.ts";

test("decode pool: worker threads verify blocks like the inline path and report tampering with the block id", async (t) => {
  const pool = new DecodePool(2);
  const inline = new DecodePool(0);
  t.after(() => pool.close());
  const blocks = Array.from({ length: 16 }, (_, i) => encodeBlock(i % 2 ? randomBytes(100_000 + i) : Buffer.alloc(200_000 + i, i)));
  const sizes = await Promise.all(blocks.map((b) => pool.verify(b.id, b.key, Buffer.from(b.data))));
  assert.deepEqual(sizes.map((s) => s.bytes), blocks.map((_, i) => (i % 2 ? 100_000 + i : 200_000 + i)));
  assert.deepEqual((await inline.verify(blocks[0]!.id, blocks[0]!.key, blocks[0]!.data)).bytes, 200_000);
  const bad = Buffer.from(blocks[3]!.data);
  bad[10] = bad[10]! ^ 1;
  await assert.rejects(pool.verify(blocks[3]!.id, blocks[3]!.key, bad), (e: unknown) => e instanceof BlockIntegrityError && e.message.includes(Buffer.from(blocks[3]!.id).toString("hex")) && /content hash/.test(e.message));
  // A block whose id matches but whose key is wrong: decrypt fails.
  await assert.rejects(pool.verify(blocks[5]!.id, blocks[4]!.key, Buffer.from(blocks[5]!.data)), (e: unknown) => e instanceof BlockIntegrityError && /GCM tag/.test(e.message));
});

test("decode pool: workers start on first use, hold the process only while busy, close when idle and restart", async (t) => {
  const pool = new DecodePool(2, { idleMs: 200 });
  t.after(() => pool.close());
  assert.equal(pool.running, 0);
  const b = encodeBlock(randomBytes(300_000));
  await Promise.all([pool.verify(b.id, b.key, Buffer.from(b.data)), pool.verify(b.id, b.key, Buffer.from(b.data))]);
  assert.equal(pool.running, 2);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(pool.running, 0, "idle workers are closed");
  assert.equal((await pool.verify(b.id, b.key, Buffer.from(b.data))).bytes, 300_000);
  assert.ok(pool.running >= 1, "a new verify starts a worker again");
});

test("decode pool: the shared pool is one per process and lets the process exit while idle", async () => {
  assert.equal(sharedDecodePool(), sharedDecodePool());
  const b = encodeBlock(randomBytes(50_000));
  assert.equal((await sharedDecodePool().verify(b.id, b.key, Buffer.from(b.data))).bytes, 50_000);
  // Nothing closes it here: the test process still ends (workers are unref'd when idle).
});

test("decode pool: a block that decrypts but is no valid Snappy stream is refused on both paths (a faulty packer, signed id)", async (t) => {
  const pool = new DecodePool(1);
  t.after(() => pool.close());
  // Encrypted and addressed like a real block, but its compressed stream promises 100 bytes and holds 3.
  const key = Buffer.alloc(32, 7);
  const cipher = createCipheriv("aes-256-gcm", key, key.subarray(0, 12));
  const data = Buffer.concat([cipher.update(Buffer.from([100, 0x08, 1, 2, 3])), cipher.final(), cipher.getAuthTag()]);
  const id = blake2b256(data);
  assert.throws(() => decodeBlock(id, key, data), BlockIntegrityError, "the mount's decoder refuses it");
  for (const p of [pool, new DecodePool(0)]) {
    await assert.rejects(p.verify(id, key, Buffer.from(data)), (e: unknown) => e instanceof BlockIntegrityError && /not a valid Snappy stream/.test(e.message));
  }
  // The same stream completed to its 100 bytes verifies, with that length.
  const good = encodeBlock(Buffer.alloc(100, 1));
  assert.equal((await pool.verify(good.id, good.key, Buffer.from(good.data))).bytes, 100);
});
