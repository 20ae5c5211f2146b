/**
 * Flist benchmark, one run, ratios against baselines measured in the same run:
 * 1. pack throughput vs `mksquashfs -comp zstd` on the same tree (goal >= 1.0x);
 * 2. cold start over an http store throttled to 3 MB/s: time until a python entrypoint has run
 *    (chroot into the lazy FUSE mount) vs download+extract of a tar.gz of the same tree at the
 *    same rate, then the same run (goal >= 10x faster with <= 10% of the bytes);
 * 3. verify MiB/s per core (verify runs on one thread);
 * 4. share of blocks reused between two versions of the tree.
 * The tree is a python image built from this machine's /usr (hard-linked, ~800 MB).
 *
 *   node bench/flist/run.ts            # needs root (chroot, FUSE), mksquashfs, tar
 *   node bench/flist/run.ts --only cold   # just the cold start (skips mksquashfs, verify, reuse)
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistReader, mountFlist, packFlist, verifyFlist } from "@zgrid/flist";
import { startThrottledServer } from "./throttled-server.ts";

const RATE = 3_000_000;
const ENTRY = ["/usr/bin/python3", "-c", "import json, http.client; print('ok')"];
const MB = 1e6;
const MiB = 2 ** 20;

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): void {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 2 ** 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr?.toString()}`);
}

function run(cmd: string, args: string[], stdin?: AsyncIterable<Uint8Array>): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [stdin ? "pipe" : "ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout?.on("data", (c: Buffer) => { stdout += c.toString(); });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
    if (stdin && child.stdin) {
      void (async () => {
        for await (const c of stdin) if (!child.stdin!.write(c)) await new Promise((r) => child.stdin!.once("drain", r));
        child.stdin!.end();
      })();
    }
  });
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; seconds: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t) / 1000 };
}

function treeBytes(root: string): { bytes: number; files: number } {
  const r = spawnSync("du", ["-sb", "--apparent-size", root], { encoding: "utf8" });
  const files = spawnSync("sh", ["-c", `find '${root}' -type f | wc -l`], { encoding: "utf8" });
  return { bytes: Number(r.stdout.split(/\s/)[0]), files: Number(files.stdout.trim()) };
}

function buildTree(root: string): void {
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  mkdirSync(join(root, "usr/lib"), { recursive: true });
  sh("cp", ["-al", "/usr/bin/python3.11", join(root, "usr/bin/")]);
  symlinkSync("python3.11", join(root, "usr/bin/python3"));
  sh("cp", ["-al", "/usr/lib/python3.11", "/usr/lib/python3", "/usr/lib/x86_64-linux-gnu", join(root, "usr/lib/")]);
  sh("cp", ["-al", "/usr/lib64", join(root, "usr/")]);
  for (const [l, t] of [["bin", "usr/bin"], ["lib", "usr/lib"], ["lib64", "usr/lib64"]]) symlinkSync(t!, join(root, l!));
}

/** v2 of the tree: 2% of files changed (one byte in the middle), 1% deleted, one 16 MB file added. */
function makeV2(v1: string, v2: string): void {
  sh("cp", ["-al", v1, v2]);
  const files = spawnSync("sh", ["-c", `cd '${v2}' && find . -type f -size +0 | sort`], { encoding: "utf8", maxBuffer: 2 ** 26 }).stdout.trim().split("\n");
  files.forEach((f, i) => {
    const p = join(v2, f);
    if (i % 100 === 7) unlinkSync(p);
    else if (i % 50 === 3) {
      const data = readFileSync(p);
      const mode = statSync(p).mode;
      data[Math.floor(data.length / 2)] = data[Math.floor(data.length / 2)]! ^ 0xff;
      unlinkSync(p); // never write through the hard link into /usr
      writeFileSync(p, data, { mode });
    }
  });
  writeFileSync(join(v2, "usr/lib/new-in-v2.bin"), randomBytes(16 * MiB));
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root (chroot, FUSE)");
  const work = mkdtempSync(join(tmpdir(), "zgrid-bench-flist-"));
  const tree = join(work, "tree");
  const lines: string[] = [];
  const say = (s: string): void => { lines.push(s); process.stderr.write(`${s}\n`); };
  try {
    buildTree(tree);
    const { bytes, files } = treeBytes(tree);
    say(`tree: python image from /usr, ${(bytes / MB).toFixed(0)} MB, ${files} files`);

    // Baseline artefact (also warms the page cache for both packers).
    mkdirSync(join(work, "files"));
    const gz = await timed(() => sh("tar", ["czf", join(work, "files/app.tar.gz"), "-C", tree, "."]));
    const gzBytes = statSync(join(work, "files/app.tar.gz")).size;
    say(`tar.gz: ${(gzBytes / MB).toFixed(0)} MB in ${gz.seconds.toFixed(1)} s`);

    const onlyCold = process.argv.includes("cold");
    // 1. pack throughput
    const store = join(work, "store");
    const pack = await timed(() => packFlist({ source: tree, output: join(work, "files/app.fl"), stores: [`dir://${store}`] }));
    if (!onlyCold) {
      const sq = await timed(() => sh("mksquashfs", [tree, join(work, "tree.sqsh"), "-comp", "zstd", "-noappend", "-quiet", "-no-progress"]));
      const packMBs = bytes / MB / pack.seconds;
      const sqMBs = bytes / MB / sq.seconds;
      say(`pack: zgrid ${packMBs.toFixed(1)} MB/s (${pack.seconds.toFixed(1)} s, 1 thread) vs mksquashfs -comp zstd ${sqMBs.toFixed(1)} MB/s (${sq.seconds.toFixed(1)} s, ${readdirSync("/sys/devices/system/cpu").filter((d) => /^cpu\d+$/.test(d)).length} threads): ${(packMBs / sqMBs).toFixed(2)}x (goal >= 1.0x)`);
      say(`      .fl ${(statSync(join(work, "files/app.fl")).size / MB).toFixed(1)} MB, ${pack.value.uniqueBlocks} unique blocks; squashfs ${(statSync(join(work, "tree.sqsh")).size / MB).toFixed(0)} MB`);

      // 3. verify
      const verify = await verifyFlist({ flist: join(work, "files/app.fl"), stores: [`dir://${store}`] });
      if (!verify.ok) throw new Error("verify failed");
      say(`verify: ${(verify.bytes / MiB / verify.seconds).toFixed(1)} MiB/s per core (${verify.blocks} blocks re-fetched, re-hashed and decrypted on one thread)`);

      // 4. block reuse between versions
      makeV2(tree, join(work, "tree2"));
      await packFlist({ source: join(work, "tree2"), output: join(work, "v2.fl"), stores: [`dir://${join(work, "store2")}`] });
      const ids = (fl: string): Set<string> => {
        const r = FlistReader.open(fl);
        const s = new Set(r.allBlocks().map((b) => Buffer.from(b.id).toString("hex")));
        r.close();
        return s;
      };
      const v1 = ids(join(work, "files/app.fl"));
      const v2 = ids(join(work, "v2.fl"));
      const reused = [...v2].filter((id) => v1.has(id)).length;
      say(`reuse: ${(100 * reused / v2.size).toFixed(1)}% of v2's ${v2.size} blocks already stored by v1 (v2: 2% of files changed by one byte, 1% deleted, 16 MB added)`);
    }

    // 2. cold start at 3 MB/s
    const server = await startThrottledServer({ storeDir: store, filesDir: join(work, "files"), bytesPerSecond: RATE });
    try {
      const out = join(work, "extracted");
      mkdirSync(out);
      server.bytesServed = 0;
      const base = await timed(async () => {
        const res = await fetch(`${server.url}/files/app.tar.gz`);
        const tar = await run("tar", ["xzf", "-", "-C", out], res.body as unknown as AsyncIterable<Uint8Array>);
        if (tar.code !== 0) throw new Error("tar failed");
        const r = await run("chroot", [out, ...ENTRY]);
        if (r.stdout.trim() !== "ok") throw new Error("entrypoint failed after extract");
      });
      const baseBytes = server.bytesServed;
      server.bytesServed = 0;
      const mnt = join(work, "mnt");
      let metrics = "";
      const lazy = await timed(async () => {
        const m = await mountFlist({ flist: `${server.url}/files/app.fl`, mountpoint: mnt, cache: { dir: join(work, "cache"), maxBytes: 2 ** 32 }, stores: [`${server.url}/blocks`] });
        try {
          const r = await run("chroot", [mnt, ...ENTRY]);
          if (r.stdout.trim() !== "ok") throw new Error("entrypoint failed on the mount");
          metrics = JSON.stringify(await m.metrics());
        } finally {
          await m.unmount();
        }
      });
      const lazyBytes = server.bytesServed;
      say(`cold start @3 MB/s: tar.gz download+extract+run ${base.seconds.toFixed(1)} s, ${(baseBytes / MB).toFixed(1)} MB; flist mount+run ${lazy.seconds.toFixed(1)} s, ${(lazyBytes / MB).toFixed(1)} MB (.fl + blocks)`);
      say(`      => ${(base.seconds / lazy.seconds).toFixed(1)}x faster (goal >= 10x) with ${(100 * lazyBytes / baseBytes).toFixed(1)}% of the bytes (goal <= 10%)`);
      say(`      mount metrics: ${metrics}`);
    } finally {
      await server.close();
    }
  } finally {
    spawnSync("fusermount", ["-uz", join(work, "mnt")]);
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
