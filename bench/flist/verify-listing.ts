/**
 * Verify and listing-validation benchmark (no root needed), ratios against baselines measured in
 * the same run:
 * 1. verify MiB/s: blocks decoded on the caller's thread (threads: 0, the old single-core path)
 *    vs the worker-thread pool on every core; also the CPU of each step on one thread (store read,
 *    BLAKE2b of ciphertext, AES-GCM, Snappy decompressed as before vs walked as now) to show where
 *    time goes and the old vs new per-block decode in the same run;
 * 2. listing validation (open + index + walk + root digest) of listings of N directories without
 *    rfs's index, N = 7,500 / 30,000 / 120,000: time and the growth ratio per 4x (linear = 4).
 *
 *   node bench/flist/verify-listing.ts [--mib 256]
 */
import { createDecipheriv } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BlockFileReader, DirStore, FlistReader, blake2b256, computeRootDigest, encodeBlock, packFlist, snappyValidLength, verifyFlist, type BlockStore } from "@zgrid/flist";
import { DatabaseSync } from "node:sqlite";

const MiB = 2 ** 20;
const argMib = process.argv.indexOf("--mib");
const TARGET = (argMib > 0 ? Number(process.argv[argMib + 1]) : 256) * MiB;

/** A tree of real binaries (compressible like an image), about TARGET bytes. */
function buildTree(dir: string): number {
  mkdirSync(dir, { recursive: true });
  let total = 0;
  let i = 0;
  for (const base of ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/lib"]) {
    for (const f of readdirSync(base)) {
      if (total >= TARGET) return total;
      try {
        const p = join(base, f);
        const st = statSync(p);
        if (!st.isFile() || st.size > 64 * MiB) continue;
        writeFileSync(join(dir, `f${i++}`), readFileSync(p));
        total += st.size;
      } catch { /* unreadable: skip */ }
    }
  }
  return total;
}

/**
 * CPU per MiB of plaintext of each step on this thread, over every block of the flist: the store
 * read (DirStore.get, 8 in flight), BLAKE2b of the ciphertext, AES-256-GCM, and for Snappy both the
 * old step (decompress into a new buffer) and the new one (walk the stream, snappy-validate.ts):
 * the old and the new per-block decode in the same run.
 */
async function steps(fl: string, store: string): Promise<string[]> {
  const reader = FlistReader.open(fl);
  const blocks = reader.allBlocks();
  reader.close();
  const dir = new DirStore(store);
  const data: Uint8Array[] = new Array(blocks.length);
  const cpu = async (fn: () => unknown): Promise<number> => {
    const s = process.cpuUsage();
    await fn();
    const u = process.cpuUsage(s);
    return (u.user + u.system) / 1e3;
  };
  const best = async (fn: () => unknown): Promise<number> => Math.min(await cpu(fn), await cpu(fn), await cpu(fn));
  const read = await best(async () => {
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < blocks.length) {
        const i = next++;
        data[i] = await dir.get(blocks[i]!.id);
      }
    }));
  });
  // The new read: what a decode worker does (open, fstat, read into a reused buffer, close), here on one thread.
  const files = new BlockFileReader();
  const readInWorker = await best(() => { for (const b of blocks) if (files.read(dir.localPaths(b.id)).kind !== "read") throw new Error("block file missing"); });
  const compressed: Buffer[] = [];
  const hashData = await best(() => { for (const d of data) blake2b256(d); });
  const aes = await best(() => {
    compressed.length = 0;
    blocks.forEach((b, i) => {
      const d = data[i]!;
      const dec = createDecipheriv("aes-256-gcm", b.key, b.key.subarray(0, 12));
      dec.setAuthTag(d.subarray(d.length - 16));
      compressed.push(dec.update(d.subarray(0, d.length - 16)));
      dec.final();
    });
  });
  let total = 0;
  const decompress = await best(() => { for (const c of compressed) snappyUncompress(c); });
  const walk = await best(() => {
    total = 0;
    for (const c of compressed) total += snappyValidLength(c, 64 * MiB);
  });
  const mib = total / MiB;
  const ms = (t: number): string => `${(t / mib).toFixed(2)} ms`;
  const oldCore = hashData + aes + decompress;
  const newCore = hashData + aes + walk;
  return [
    `decode steps, CPU per MiB of plaintext on one thread (${blocks.length} blocks, ${mib.toFixed(0)} MiB, best of 3): store read (old: DirStore.get, 8 in flight) ${ms(read)}, store read (new: sync into a reused buffer, as a worker does) ${ms(readInWorker)}, BLAKE2b(ciphertext) ${ms(hashData)}, AES-256-GCM ${ms(aes)}, Snappy decompress (session 4) ${ms(decompress)}, Snappy walk ${ms(walk)}`,
    `      decode per core: decompress (hash + GCM + decompress) ${(mib / (oldCore / 1e3)).toFixed(0)} MiB/s vs walk (hash + GCM + walk) ${(mib / (newCore / 1e3)).toFixed(0)} MiB/s = ${(oldCore / newCore).toFixed(2)}x; ` +
      `with the store read: old read ${(mib / ((newCore + read) / 1e3)).toFixed(0)} vs new read ${(mib / ((newCore + readInWorker) / 1e3)).toFixed(0)} MiB/s per core = ${((newCore + read) / (newCore + readInWorker)).toFixed(2)}x; ` +
      `so 2 idle cores at most ${(2 * mib / ((newCore + read) / 1e3)).toFixed(0)} (old read) vs ${(2 * mib / ((newCore + readInWorker) / 1e3)).toFixed(0)} MiB/s (new read), before messaging`,
  ];
}

/** rfs tables without any index, N directories in a tree of fan-out 16 (as an attacker sends it). */
function writeDirListing(path: string, o: { dirs: number }): string {
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE inode (ino INTEGER PRIMARY KEY AUTOINCREMENT, parent INTEGER, name VARCHAR(255), size INTEGER,
    uid INTEGER, gid INTEGER, mode INTEGER, rdev INTEGER, ctime INTEGER, mtime INTEGER);
    CREATE TABLE extra (ino INTEGER PRIMARY KEY, data VARCHAR(4096)); CREATE TABLE block (ino INTEGER, id VARCHAR(32), key VARCHAR(32));
    CREATE TABLE tag (key VARCHAR(10) PRIMARY KEY, value VARCHAR(255)); CREATE TABLE route (start integer, end integer, url VARCHAR(2048)); BEGIN;`);
  const insert = db.prepare("insert into inode (ino, parent, name, size, uid, gid, mode, rdev, ctime, mtime) values (?, ?, ?, 4096, 0, 0, 16877, 0, 0, 0)");
  insert.run(1, 0, "/");
  for (let i = 0; i < o.dirs; i++) insert.run(i + 2, Math.floor(i / 16) + 1, `d${i}`);
  db.exec("COMMIT");
  db.close();
  return path;
}

let snappyUncompress: (b: Buffer) => Uint8Array;

async function main(): Promise<void> {
  const { createRequire } = await import("node:module");
  const require = createRequire(join(process.cwd(), "packages/flist/package.json"));
  try {
    const native = require("snappy") as { uncompressSync(b: Buffer): Buffer };
    snappyUncompress = (b) => native.uncompressSync(b);
  } catch {
    const js = require("snappyjs") as { uncompress(b: Uint8Array): Uint8Array };
    snappyUncompress = (b) => js.uncompress(b);
  }
  encodeBlock(Buffer.from("warm up"));
  const work = mkdtempSync(join(tmpdir(), "zgrid-bench-verify-"));
  const lines: string[] = [];
  const say = (s: string): void => { lines.push(s); process.stderr.write(`${s}\n`); };
  try {
    say(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} (shared machine: figures vary with load)`);
    const bytes = buildTree(join(work, "tree"));
    const fl = join(work, "a.fl");
    const store = join(work, "store");
    await packFlist({ source: join(work, "tree"), output: fl, stores: [`dir://${store}`], xattrs: false });
    say(`tree: ${(bytes / MiB).toFixed(0)} MiB of /usr binaries`);
    for (const line of await steps(fl, store)) say(line);
    const cores = availableParallelism();
    const results: Record<string, number[]> = { one: [], poolOld: [], pool: [] };
    const perCpu: Record<string, number[]> = { one: [], poolOld: [], pool: [] };
    // "pool" = verifyFlist's default: the process-wide worker pool on every core (started by the
    // first round and reused, as in a daemon that verifies more than one flist), the workers
    // reading the dir:// store's files themselves. "poolOld" = the same pool fed as before this
    // session: the caller's thread reads each block (DirStore.get) and transfers it (a store
    // without local paths, as an http store is).
    const dirStore = new DirStore(store);
    const noLocal: BlockStore = { url: dirStore.url, get: (id) => dirStore.get(id), set: (id, d) => dirStore.set(id, d), has: (id) => dirStore.has(id) };
    for (let round = 0; round < 3; round++) {
      const runs: Array<[string, number | undefined, BlockStore | string[]]> = [["one", 0, [`dir://${store}`]], ["poolOld", undefined, noLocal], ["pool", undefined, [`dir://${store}`]]];
      for (const [name, threads, stores] of runs) {
        const cpu = process.cpuUsage();
        const r = await verifyFlist({ flist: fl, stores, threads });
        const used = process.cpuUsage(cpu);
        if (!r.ok) throw new Error("verify failed");
        results[name]!.push(r.bytes / MiB / r.seconds);
        // CPU seconds of every thread of this process: a per-core rate that other load does not skew.
        perCpu[name]!.push(r.bytes / MiB / ((used.user + used.system) / 1e6));
      }
    }
    const one = Math.max(...results.one!);
    const poolOld = Math.max(...results.poolOld!);
    const pool = Math.max(...results.pool!);
    const load = loadavg().map((l) => l.toFixed(1)).join(" ");
    const cpuMs = (name: string): string => (1000 / Math.max(...perCpu[name]!)).toFixed(2);
    say(`verify per core (MiB of plaintext per CPU-second, all threads): caller's thread ${Math.max(...perCpu.one!).toFixed(0)}, worker pool fed by the caller (old) ${Math.max(...perCpu.poolOld!).toFixed(0)}, workers reading (new) ${Math.max(...perCpu.pool!).toFixed(0)}; ` +
      `CPU ms per MiB ${cpuMs("one")} / ${cpuMs("poolOld")} / ${cpuMs("pool")}, so 2 idle cores: ${(2 * Math.max(...perCpu.poolOld!)).toFixed(0)} (old) vs ${(2 * Math.max(...perCpu.pool!)).toFixed(0)} MiB/s (new) (session 2 figure: 172.9 MiB/s per core)`);
    say(`verify all cores (wall clock, best of 3): caller's thread ${one.toFixed(0)} MiB/s; worker pool on ${cores} cores fed by the caller (old) ${poolOld.toFixed(0)} MiB/s vs workers reading (new) ${pool.toFixed(0)} MiB/s = ${(pool / poolOld).toFixed(2)}x (goal >= 500 MiB/s: ${pool >= 500 ? "met" : "NOT met"}; load average now ${load})`);

    const times: number[] = [];
    for (const n of [7_500, 30_000, 120_000]) {
      const path = writeDirListing(join(work, `dirs-${n}.fl`), { dirs: n });
      const started = performance.now();
      const r = FlistReader.open(path);
      let count = 0;
      for (const _ of r.walk()) count++;
      await computeRootDigest(r);
      r.close();
      times.push((performance.now() - started) / 1000);
      say(`listing of ${n} directories without rfs's index: validated (open, index, walk ${count} entries, root digest) in ${times[times.length - 1]!.toFixed(2)} s`);
    }
    say(`      growth per 4x entries: ${(times[1]! / times[0]!).toFixed(2)}x, ${(times[2]! / times[1]!).toFixed(2)}x (linear 4x, quadratic 16x; before: 30,000 dirs took 165 s on a node)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
