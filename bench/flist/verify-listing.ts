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
import { DirStore, FlistReader, blake2b256, computeRootDigest, encodeBlock, packFlist, snappyValidLength, verifyFlist } from "@zgrid/flist";
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
    `decode steps, CPU per MiB of plaintext on one thread (${blocks.length} blocks, ${mib.toFixed(0)} MiB, best of 3): store read ${ms(read)}, BLAKE2b(ciphertext) ${ms(hashData)}, AES-256-GCM ${ms(aes)}, Snappy decompress (old) ${ms(decompress)}, Snappy walk (new) ${ms(walk)}`,
    `      decode per core: old (hash + GCM + decompress) ${(mib / (oldCore / 1e3)).toFixed(0)} MiB/s vs new (hash + GCM + walk) ${(mib / (newCore / 1e3)).toFixed(0)} MiB/s = ${(oldCore / newCore).toFixed(2)}x; with the store read: ${(mib / ((oldCore + read) / 1e3)).toFixed(0)} vs ${(mib / ((newCore + read) / 1e3)).toFixed(0)} MiB/s; 2 cores at most ${(2 * mib / ((newCore + read) / 1e3)).toFixed(0)} MiB/s`,
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
    const results: Record<string, number[]> = { one: [], pool: [] };
    const perCpu: Record<string, number[]> = { one: [], pool: [] };
    // "pool" = verifyFlist's default: the process-wide worker pool on every core (started by the
    // first round and reused, as in a daemon that verifies more than one flist).
    for (let round = 0; round < 3; round++) {
      for (const [name, threads] of [["one", 0], ["pool", undefined]] as const) {
        const cpu = process.cpuUsage();
        const r = await verifyFlist({ flist: fl, stores: [`dir://${store}`], threads });
        const used = process.cpuUsage(cpu);
        if (!r.ok) throw new Error("verify failed");
        results[name]!.push(r.bytes / MiB / r.seconds);
        // CPU seconds of every thread of this process: a per-core rate that other load does not skew.
        perCpu[name]!.push(r.bytes / MiB / ((used.user + used.system) / 1e6));
      }
    }
    const one = Math.max(...results.one!);
    const pool = Math.max(...results.pool!);
    const load = loadavg().map((l) => l.toFixed(1)).join(" ");
    say(`verify per core (MiB of plaintext per CPU-second, all threads): caller's thread ${Math.max(...perCpu.one!).toFixed(0)}, worker pool ${Math.max(...perCpu.pool!).toFixed(0)} (old figure: 172.9 MiB/s per core, bench/flist README)`);
    say(`verify all cores (wall clock): caller's thread (old path) ${one.toFixed(0)} MiB/s vs worker pool on ${cores} cores ${pool.toFixed(0)} MiB/s = ${(pool / one).toFixed(2)}x (best of 3; goal >= 500 MiB/s: ${pool >= 500 ? "met" : "NOT met"}; load average now ${load})`);

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
