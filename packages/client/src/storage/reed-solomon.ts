/**
 * Reed–Solomon k+m over one block, with `@ronomon/reed-solomon` (native, runs in libuv's thread
 * pool so the event loop is never blocked): the block is padded to k equal shards (a multiple of
 * 8 bytes), m parity shards are computed; any k of the k+m shards give the block back.
 *
 * @example
 * ```ts
 * const { shards, shardSize } = await rsEncode(block, 3, 2); // 5 shards
 * const back = await rsDecode([shards[0], undefined, shards[2], undefined, shards[4]], 3, 2, shardSize, block.length);
 * ```
 */
import { createRequire } from "node:module";

interface RsLib {
  MAX_K: number;
  MAX_M: number;
  create(k: number, m: number): unknown;
  encode(ctx: unknown, sources: number, targets: number, buffer: Buffer, bufferOffset: number, bufferSize: number,
    parity: Buffer, parityOffset: number, paritySize: number, cb: (e: Error | undefined) => void): void;
}
let lib: RsLib | undefined;
/** The native library, loaded on first use. */
const rsLib = (): RsLib => (lib ??= createRequire(import.meta.url)("@ronomon/reed-solomon") as RsLib);
const contexts = new Map<string, unknown>();

function contextOf(k: number, m: number): unknown {
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k > rsLib().MAX_K || m > rsLib().MAX_M) {
    throw new RangeError(`erasure coding needs 1 <= k <= ${rsLib().MAX_K} data and 1 <= m <= ${rsLib().MAX_M} parity shards, got ${k}+${m}`);
  }
  const id = `${k}+${m}`;
  let c = contexts.get(id);
  if (!c) contexts.set(id, (c = rsLib().create(k, m)));
  return c;
}

function run(k: number, m: number, sources: number, targets: number, data: Buffer, parity: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    rsLib().encode(contextOf(k, m), sources, targets, data, 0, data.length, parity, 0, parity.length, (e) => (e ? reject(e) : resolve()));
  });
}

/** Size of each shard for a block of `length` bytes. */
export function shardSizeFor(length: number, k: number): number {
  return Math.max(8, Math.ceil(length / k / 8) * 8);
}

/** Splits `block` into k data shards and computes m parity shards. */
export async function rsEncode(block: Uint8Array, k: number, m: number): Promise<{ shards: Buffer[]; shardSize: number }> {
  const shardSize = shardSizeFor(block.length, k);
  const data = Buffer.alloc(shardSize * k);
  data.set(block);
  const parity = Buffer.alloc(shardSize * m);
  let sources = 0;
  for (let i = 0; i < k; i++) sources |= 1 << i;
  let targets = 0;
  for (let i = k; i < k + m; i++) targets |= 1 << i;
  await run(k, m, sources, targets, data, parity);
  const shards: Buffer[] = [];
  for (let i = 0; i < k; i++) shards.push(data.subarray(i * shardSize, (i + 1) * shardSize));
  for (let i = 0; i < m; i++) shards.push(parity.subarray(i * shardSize, (i + 1) * shardSize));
  return { shards, shardSize };
}

/** Rebuilds the block from any k present shards (undefined = lost). */
export async function rsDecode(shards: Array<Uint8Array | undefined>, k: number, m: number, shardSize: number, length: number): Promise<Buffer> {
  const present = shards.filter((s) => s !== undefined).length;
  if (present < k) throw new RangeError(`only ${present} of ${k + m} shards are available, ${k} are needed`);
  const data = Buffer.alloc(shardSize * k);
  const parity = Buffer.alloc(shardSize * m);
  let sources = 0;
  let targets = 0;
  for (let i = 0; i < k + m; i++) {
    const s = shards[i];
    if (s && s.length !== shardSize) throw new RangeError(`shard ${i} has ${s.length} bytes, expected ${shardSize}`);
    if (s) {
      (i < k ? data : parity).set(s, (i < k ? i : i - k) * shardSize);
      sources |= 1 << i;
    } else if (i < k) {
      targets |= 1 << i;
    }
  }
  if (targets) await run(k, m, sources, targets, data, parity);
  return data.subarray(0, length);
}
