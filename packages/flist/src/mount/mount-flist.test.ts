import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FlistReader } from "../format/flist-reader.ts";
import { packFlist } from "../pack/pack-flist.ts";
import { blockPath } from "../store/block-store.ts";
import { toHex } from "../format/hash.ts";
import { describeTree, makeSampleTree, type EntryDescription } from "../testing/sample-tree.ts";
import { loadFuseBinding } from "./fuse-binding.ts";
import { lazyUnmount, mountFlist } from "./mount-flist.ts";

const SAMPLE = fileURLToPath(new URL("../testing/sample-tree.ts", import.meta.url));

/** describeTree run in another process: reading a FUSE mount from the serving process deadlocks. */
function describeFromChild(root: string): EntryDescription[] {
  const code = `import { describeTree } from ${JSON.stringify(SAMPLE)}; process.stdout.write(JSON.stringify(describeTree(process.argv[1])));`;
  const r = spawnSync(process.execPath, ["--no-warnings", "--input-type=module", "-e", code, root], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as EntryDescription[];
}

/** What a mount shows: hard links as one inode (ino and link count), mtimes to the millisecond; names byte for byte. */
function comparable(list: EntryDescription[]): unknown[] {
  return list.map(({ mtimeUs, ...rest }) => ({ ...rest, mtimeMs: Math.floor(mtimeUs / 1000) }));
}

interface Unmountable { unmount(): Promise<void> }

function setup(t: { after(fn: () => Promise<void>): void }): { dir: string; mounts: Unmountable[] } {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-mount-test-"));
  const mounts: Unmountable[] = [];
  t.after(async () => {
    for (const m of mounts) await m.unmount();
    lazyUnmount(join(dir, "mnt"));
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, mounts };
}

test("a FUSE mount read from another process equals the source", async (t) => {
  const { dir, mounts } = setup(t);
  makeSampleTree(join(dir, "src"), { bigFileBytes: 3_000_000 });
  await packFlist({ source: join(dir, "src"), output: join(dir, "a.fl"), stores: [`dir://${join(dir, "store")}`] });
  const m = await mountFlist({ flist: join(dir, "a.fl"), mountpoint: join(dir, "mnt"), cache: { dir: join(dir, "cache"), maxBytes: 64 * 2 ** 20 } });
  mounts.push(m);
  const before = await m.metrics();
  assert.equal(before.blocksFetched, 0, "lazy: nothing fetched before a read");
  assert.deepEqual(comparable(describeFromChild(join(dir, "mnt"))), comparable(describeTree(join(dir, "src"))));
  const after = await m.metrics();
  assert.ok(after.blocksFetched >= 6, `fetched ${after.blocksFetched}`);
  assert.ok(after.prefetched > 0, "sequential read triggered read-ahead");
  await m.unmount();
  assert.equal(spawnSync("mountpoint", ["-q", join(dir, "mnt")]).status !== 0, true, "unmounted");

  // A second mount of the same flist reads from the shared cache.
  const m2 = await mountFlist({ flist: join(dir, "a.fl"), mountpoint: join(dir, "mnt"), cache: { dir: join(dir, "cache"), maxBytes: 64 * 2 ** 20 } });
  mounts.push(m2);
  const r = spawnSync("cat", [join(dir, "mnt/bin/big")], { maxBuffer: 64 * 2 ** 20 });
  assert.equal(r.status, 0);
  assert.ok(Buffer.from(r.stdout).equals(readFileSync(join(dir, "src/bin/big"))));
  const m2m = await m2.metrics();
  assert.equal(m2m.blocksFetched, 0);
  assert.ok(m2m.cacheHits >= 6);
});

test("non-UTF-8 names: the mount lists, looks up, reads and readlinks the exact bytes (rebuilt fuse-native addon)", async (t) => {
  assert.equal(loadFuseBinding().encoding, "latin1", "scripts/setup.sh builds fuse-native with byte-exact names (packages/flist/scripts/build-fuse-bytes.sh)");
  const { dir, mounts } = setup(t);
  const src = join(dir, "src");
  const b = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));
  const badDir = b(src, "/d-", [0xc3, 0x28]); // invalid 2-byte sequence
  const badFile = b("f-", [0xff, 0xfe], ".txt");
  const twin = b("f-", [0xff, 0xfd], ".txt"); // same lossy form (U+FFFD U+FFFD) as badFile
  mkdirSync(badDir, { recursive: true });
  writeFileSync(Buffer.concat([badDir, Buffer.from("/"), badFile]), "first\n");
  writeFileSync(Buffer.concat([badDir, Buffer.from("/"), twin]), "second\n");
  symlinkSync(b("target-", [0x80]), b(src, "/link-", [0xe9]));
  await packFlist({ source: src, output: join(dir, "a.fl"), stores: [`dir://${join(dir, "store")}`] });
  mounts.push(await mountFlist({ flist: join(dir, "a.fl"), mountpoint: join(dir, "mnt"), cache: { dir: join(dir, "cache"), maxBytes: 64 * 2 ** 20 } }));
  // Read from another process (reading a FUSE mount from the serving process deadlocks).
  const code = `import { readdirSync, readFileSync, readlinkSync } from "node:fs";
    const mnt = Buffer.from(process.argv[1]); const j = (...p) => Buffer.concat(p.flatMap((x, i) => (i ? [Buffer.from("/"), x] : [x])));
    const top = readdirSync(mnt, { encoding: "buffer" }).map((n) => n.toString("hex")).sort();
    const dirName = readdirSync(mnt, { encoding: "buffer" }).find((n) => n[0] === 0x64);
    const inner = readdirSync(j(mnt, dirName), { encoding: "buffer" }).map((n) => n.toString("hex")).sort();
    const first = readFileSync(j(mnt, dirName, Buffer.from("662dfffe2e747874", "hex")), "utf8");
    const second = readFileSync(j(mnt, dirName, Buffer.from("662dfffd2e747874", "hex")), "utf8");
    const link = readlinkSync(j(mnt, Buffer.from("6c696e6b2de9", "hex")), { encoding: "buffer" }).toString("hex");
    process.stdout.write(JSON.stringify({ top, inner, first, second, link }));`;
  const r = spawnSync(process.execPath, ["--no-warnings", "--input-type=module", "-e", code, join(dir, "mnt")], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(seen, {
    top: [b("d-", [0xc3, 0x28]).toString("hex"), b("link-", [0xe9]).toString("hex")].sort(),
    inner: [badFile.toString("hex"), twin.toString("hex")].sort(),
    first: "first\n",
    second: "second\n",
    link: b("target-", [0x80]).toString("hex"),
  });
});

test("a tampered block fails the read with EIO, is counted and never cached", async (t) => {
  const { dir, mounts } = setup(t);
  makeSampleTree(join(dir, "src"), { bigFileBytes: 1_200_000 });
  await packFlist({ source: join(dir, "src"), output: join(dir, "a.fl"), stores: [`dir://${join(dir, "store")}`] });
  const reader = FlistReader.open(join(dir, "a.fl"));
  const big = [...reader.walk()].find((e) => e.path.toString() === "/bin/big")!;
  const id = reader.blocks(big.inode.ino)[1]!.id;
  reader.close();
  const file = join(dir, "store", toHex(id)); // flat layout (released rfs)
  const bytes = readFileSync(file);
  bytes[7] = bytes[7]! ^ 1;
  writeFileSync(file, bytes);

  const m = await mountFlist({ flist: join(dir, "a.fl"), mountpoint: join(dir, "mnt"), cache: { dir: join(dir, "cache"), maxBytes: 64 * 2 ** 20 } });
  mounts.push(m);
  const ok = spawnSync("cat", [join(dir, "mnt/etc/hostname")], { encoding: "utf8" });
  assert.equal(ok.stdout, "zgrid\n");
  const bad = spawnSync("cat", [join(dir, "mnt/bin/big")], { encoding: "utf8" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Input\/output error/);
  const metrics = await m.metrics();
  assert.ok(metrics.verifyFailures >= 1);
  assert.equal(existsSync(join(dir, "cache/blocks", blockPath(id))), false, "a bad block is never cached");
});

test("the prefetch tag fetches listed files right after mount; unsigned flists are refused when a signature is required", async (t) => {
  const { dir, mounts } = setup(t);
  makeSampleTree(join(dir, "src"), { bigFileBytes: 1_600_000 });
  const fl = join(dir, "a.fl");
  await packFlist({ source: join(dir, "src"), output: fl, stores: [`dir://${join(dir, "store")}`], tags: { "zgrid.prefetch": "/bin/big\n/etc/hostname\n/missing" } });
  await assert.rejects(mountFlist({ flist: fl, mountpoint: join(dir, "mnt"), cache: { dir: join(dir, "cache"), maxBytes: 2 ** 26 }, requireSignature: true }), /not signed/);
  const m = await mountFlist({ flist: fl, mountpoint: join(dir, "mnt"), cache: { dir: join(dir, "cache"), maxBytes: 2 ** 26 } });
  mounts.push(m);
  const deadline = Date.now() + 20_000;
  let metrics = await m.metrics();
  while (metrics.blocksFetched < 5 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    metrics = await m.metrics();
  }
  assert.equal(metrics.blocksFetched, 5, "4 blocks of /bin/big + 1 of /etc/hostname, without any read");
  assert.equal(metrics.prefetched, 5);
});
