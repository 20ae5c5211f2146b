/**
 * Data that survives nodes: a stream is cut into blocks, each block sealed (block-seal.ts: keyed
 * by the twin, content-addressed), split by Reed–Solomon into k data + m parity shards, and shard
 * i of block b stored in zdb namespace (i + b) mod n (n = k + m, one namespace per node). Any m
 * namespaces (or their nodes) may be lost: reading fetches the k data shards, and the parity
 * shards only when some of those are missing or their hash is not the manifest's; it rebuilds
 * from any k good ones and checks the block's id and tag.
 * The manifest (ids, keys, shard hashes) is what the owner keeps to read the object back.
 *
 * @example
 * ```ts
 * const store = new ErasureStore({ targets, k: 3, m: 2, storageKey: storageKeyOf(twin.privateKey) });
 * const manifest = await store.put(createReadStream("backup.tar"));
 * for await (const chunk of store.get(manifest)) out.write(chunk);
 * await store.remove(manifest); store.close();
 * ```
 */
import { createHash } from "node:crypto";
import { ClientError } from "../errors/client-errors.ts";
import { openBlock, sealBlock } from "./block-seal.ts";
import { rsDecode, rsEncode } from "./reed-solomon.ts";
import { ZdbTarget, type ZdbTargetInfo } from "./zdb-target.ts";

export class ErasureStoreError extends ClientError {
  override readonly code: string = "ERASURE_STORE";
}

export interface ManifestBlock {
  /** sha256 of the sealed block (hex) */
  id: string;
  /** the block key (hex) */
  key: string;
  /** sealed block bytes */
  length: number;
  shardSize: number;
  /** sha256 of every shard (hex), k data then m parity */
  shards: string[];
}

export interface ErasureManifest {
  version: 1;
  k: number;
  m: number;
  /** plaintext bytes */
  size: number;
  /** the namespaces, in placement order */
  targets: Array<Omit<ZdbTargetInfo, "password">>;
  blocks: ManifestBlock[];
}

export interface ErasureStoreOptions {
  /** k + m zdb namespaces, ideally on k + m different nodes. */
  targets: ZdbTargetInfo[];
  k: number;
  m: number;
  storageKey: Uint8Array;
  /** Plaintext bytes per block (default 1 MiB; a shard is blockSize / k). */
  blockSize?: number;
  /** Blocks in flight at once (default 4). */
  concurrency?: number;
  timeoutMs?: number;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const shardKey = (id: string, i: number) => `${id}.${i}`;

async function* chunks(source: AsyncIterable<Uint8Array> | Uint8Array, size: number): AsyncGenerator<Buffer> {
  if (source instanceof Uint8Array) {
    for (let o = 0; o < source.length; o += size) yield Buffer.from(source.subarray(o, o + size));
    return;
  }
  let parts: Buffer[] = [];
  let have = 0;
  for await (const piece of source) {
    let p = Buffer.from(piece);
    while (have + p.length >= size) {
      const take = size - have;
      parts.push(p.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      have = 0;
      p = p.subarray(take);
    }
    if (p.length) {
      parts.push(p);
      have += p.length;
    }
  }
  if (have) yield Buffer.concat(parts);
}

export class ErasureStore {
  private readonly o: Required<Omit<ErasureStoreOptions, "targets">>;
  private readonly targets: ZdbTarget[];

  constructor(o: ErasureStoreOptions) {
    if (o.targets.length !== o.k + o.m) throw new ErasureStoreError(`${o.k}+${o.m} erasure coding needs ${o.k + o.m} zdb namespaces, got ${o.targets.length}`);
    this.o = { blockSize: 1024 * 1024, concurrency: 4, timeoutMs: 5000, ...o };
    this.targets = o.targets.map((t) => new ZdbTarget(t, { timeoutMs: this.o.timeoutMs }));
  }

  private target(block: number, shard: number): ZdbTarget {
    return this.targets[(shard + block) % this.targets.length] as ZdbTarget;
  }

  /** Stores a stream; resolves with the manifest once every shard of every block is stored. */
  async put(source: AsyncIterable<Uint8Array> | Uint8Array): Promise<ErasureManifest> {
    const { k, m } = this.o;
    const blocks: ManifestBlock[] = [];
    let size = 0;
    const inflight = new Set<Promise<void>>();
    let failure: unknown;
    let index = 0;
    for await (const plain of chunks(source, this.o.blockSize)) {
      const b = index++;
      size += plain.length;
      const job = (async () => {
        const sealed = sealBlock(this.o.storageKey, plain);
        const id = sealed.id.toString("hex");
        const { shards, shardSize } = await rsEncode(sealed.data, k, m);
        const results = await Promise.allSettled(shards.map((s, i) => this.target(b, i).set(shardKey(id, i), s)));
        const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${this.target(b, i).label}: ${(r.reason as Error).message}`] : []));
        if (failed.length) throw new ErasureStoreError(`could not store ${failed.length} of ${k + m} shards of block ${b}: ${failed.join("; ")}`, { hint: "check that every namespace is deployed and reachable, then write again" });
        blocks[b] = { id, key: sealed.key.toString("hex"), length: sealed.data.length, shardSize, shards: shards.map(sha) };
      })();
      const tracked = job.catch((e: unknown) => {
        failure ??= e;
      }).finally(() => inflight.delete(tracked));
      inflight.add(tracked);
      if (inflight.size >= this.o.concurrency) await Promise.race(inflight);
      if (failure) break;
    }
    await Promise.all(inflight);
    if (failure) throw failure;
    return { version: 1, k, m, size, targets: this.targets.map((t) => ({ host: t.info.host, port: t.info.port, namespace: t.info.namespace })), blocks };
  }

  /** One block back, verified: any k good shards suffice. */
  async readBlock(manifest: ErasureManifest, b: number): Promise<Buffer> {
    const blk = manifest.blocks[b];
    if (!blk) throw new ErasureStoreError(`block ${b} is not in the manifest`);
    const n = manifest.k + manifest.m;
    const shards: Array<Buffer | undefined> = new Array<Buffer | undefined>(n).fill(undefined);
    const fetch = async (from: number, to: number) => {
      const got = await Promise.allSettled(Array.from({ length: to - from }, (_, j) => this.target(b, from + j).get(shardKey(blk.id, from + j))));
      got.forEach((r, j) => {
        if (r.status === "fulfilled" && r.value && r.value.length === blk.shardSize && sha(r.value) === blk.shards[from + j]) shards[from + j] = r.value;
      });
    };
    // the k data shards first (the code is systematic: they are the block); parity only for what is missing
    await fetch(0, manifest.k);
    if (shards.filter(Boolean).length < manifest.k) await fetch(manifest.k, n);
    const good = shards.filter(Boolean).length;
    if (good < manifest.k) {
      throw new ErasureStoreError(`block ${b}: only ${good} of ${n} shards are intact, ${manifest.k} are needed`, { details: { block: blk.id }, hint: `more than ${manifest.m} namespaces are lost or corrupt` });
    }
    const sealed = await rsDecode(shards, manifest.k, manifest.m, blk.shardSize, blk.length);
    return openBlock(Buffer.from(blk.id, "hex"), Buffer.from(blk.key, "hex"), sealed);
  }

  /** The object's bytes in order, `concurrency` blocks read ahead. */
  async *get(manifest: ErasureManifest): AsyncGenerator<Buffer> {
    const ahead: Array<Promise<Buffer>> = [];
    let next = 0;
    const fill = () => {
      while (ahead.length < this.o.concurrency && next < manifest.blocks.length) {
        const p = this.readBlock(manifest, next++);
        p.catch(() => undefined);
        ahead.push(p);
      }
    };
    fill();
    while (ahead.length) {
      const block = await (ahead.shift() as Promise<Buffer>);
      fill();
      yield block;
    }
  }

  async read(manifest: ErasureManifest): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const p of this.get(manifest)) parts.push(p);
    return Buffer.concat(parts);
  }

  /**
   * Deletes the object's shards it can reach (best effort: lost namespaces are gone anyway).
   * Blocks dedup by content: pass the manifests of objects kept in the same namespaces so
   * blocks they share are kept.
   */
  async remove(manifest: ErasureManifest, keep: ErasureManifest[] = []): Promise<void> {
    const n = manifest.k + manifest.m;
    const kept = new Set(keep.flatMap((x) => x.blocks.map((blk) => blk.id)));
    await Promise.allSettled(manifest.blocks.flatMap((blk, b) => (kept.has(blk.id) ? [] : Array.from({ length: n }, (_, i) => this.target(b, i).del(shardKey(blk.id, i))))));
  }

  close(): void {
    for (const t of this.targets) t.close();
  }
}
