// Disk backups against a real hub process (the `zgrid-flist hub` command, signed block PUTs):
// round trip (sparse), dedupe between two backups (counted in the hub's own block directory),
// tampering and another twin's key refused with typed errors, and hostile manifests refused
// before anything is written.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { BackupFormatError, BackupKeyError, BlockIntegrityError } from "../errors/flist-errors.ts";
import { toHex } from "../format/hash.ts";
import { signHubRequest } from "../hub/hub-auth.ts";
import { backupKeyOf, sealBackupBlock, sealManifest } from "./backup-crypto.ts";
import { backupDisk } from "./backup-disk.ts";
import { BACKUP_FORMAT, encodePage, parsePage } from "./backup-manifest.ts";
import { readBackupManifest, restoreDisk } from "./restore-disk.ts";

const FLIST_BIN = fileURLToPath(new URL("../../bin/flist.ts", import.meta.url));
const alice = twinKeyFromPrivateKey("0x" + "a1".repeat(32));
const bob = twinKeyFromPrivateKey("0x" + "b2".repeat(32));
const BLOCK = 512 * 1024;

let dir = "";
let hubUrl = "";
let hub: ChildProcess | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "zgrid-backup-test-"));
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", FLIST_BIN, "hub", "--data", join(dir, "hub"), "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  hub = child;
  hubUrl = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /hub listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => reject(new Error(`hub exited (${code}) before listening: ${out}`)));
  });
});

after(() => {
  hub?.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Files in the hub's block directory: what the hub really stores. */
function hubBlockFiles(): Set<string> {
  const root = join(dir, "hub", "blocks");
  const out = new Set<string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/^[0-9a-f]{64}$/.test(e.name)) out.add(join(d, e.name));
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

/** A 16.25 MiB disk: zero blocks, random blocks, two copies of one block, a short last block. */
function makeDisk(): Buffer {
  const disk = Buffer.alloc(32 * BLOCK + 256 * 1024);
  const same = randomBytes(BLOCK);
  for (let i = 0; i < 33; i++) {
    if (i % 3 === 0) continue; // zero
    const at = i * BLOCK;
    if (i === 4 || i === 20) same.copy(disk, at);
    else randomBytes(Math.min(BLOCK, disk.length - at)).copy(disk, at);
  }
  return disk;
}

const chunks = (b: Buffer) => Readable.from([b.subarray(0, 1000), b.subarray(1000, 3 * BLOCK + 7), b.subarray(3 * BLOCK + 7)]);

test("backup → restore round trip is exact and sparse; a second backup of a barely changed disk uploads only the changed blocks", async () => {
  const disk = makeDisk();
  const before = hubBlockFiles().size;
  const first = await backupDisk({ hub: hubUrl, key: alice, source: chunks(disk) });
  assert.equal(first.size, disk.length);
  assert.equal(first.zeroBlocks, 11, "blocks 0,3,…,30 are zero and skipped");
  assert.equal(first.blocks, 22);
  assert.equal(first.uploadedBlocks, 21, "the two equal blocks are stored once");
  assert.equal(first.uploadedPages, 1);
  assert.equal(hubBlockFiles().size - before, 21 + 1 + 1, "21 data blocks, 1 page, 1 root on the hub");

  const target = join(dir, "restored.img");
  const r = await restoreDisk({ hub: hubUrl, key: alice, manifest: first.manifest, target });
  assert.equal(r.size, disk.length);
  assert.ok(readFileSync(target).equals(disk), "restored bytes equal the disk");
  assert.ok(statSync(target).blocks * 512 < disk.length - 10 * BLOCK, "zero blocks are holes, not written");
  assert.ok(!existsSync(`${target}.restore`));

  // change one byte in two blocks
  disk[5 * BLOCK + 100]! ^= 0xff;
  disk[32 * BLOCK + 5]! ^= 0xff; // the short last block
  const mid = hubBlockFiles().size;
  const second = await backupDisk({ hub: hubUrl, key: alice, source: chunks(disk) });
  assert.equal(second.uploadedBlocks, 2, "only the two changed blocks are uploaded");
  assert.equal(second.uploadedPages, 1, "the changed page (one page holds 7,710 entries)");
  assert.equal(hubBlockFiles().size - mid, 2 + 1 + 1);
  await restoreDisk({ hub: hubUrl, key: alice, manifest: second.manifest, target });
  assert.ok(readFileSync(target).equals(disk));
  const m = await readBackupManifest({ hub: hubUrl, key: alice, manifest: first.manifest });
  assert.equal(m.size, disk.length, "the first backup is still readable");
});

test("nothing is shared across twins: another twin's backup of the same disk uploads every block, and cannot open alice's", async () => {
  const disk = makeDisk();
  const a = await backupDisk({ hub: hubUrl, key: alice, source: Readable.from([disk]) });
  const b = await backupDisk({ hub: hubUrl, key: bob, source: Readable.from([disk]) });
  assert.equal(b.uploadedBlocks, 21, "bob's sealed blocks differ from alice's: no cross-twin dedupe");
  const target = join(dir, "bob.img");
  await assert.rejects(restoreDisk({ hub: hubUrl, key: bob, manifest: a.manifest, target }), (e: unknown) => e instanceof BackupKeyError && /another twin/.test(e.message));
  assert.ok(!existsSync(target) && !existsSync(`${target}.restore`), "nothing written");
  // A page of alice's opened with bob's key (the ref is not secret in this attack) is refused too.
  const page = sealBackupBlock(backupKeyOf(alice), encodePage([{ index: 1, id: Buffer.alloc(32, 1), ref: Buffer.alloc(32, 2) }]));
  const { openBackupBlock } = await import("./backup-crypto.ts");
  assert.throws(() => openBackupBlock(backupKeyOf(bob), page.id, page.ref, page.data, BLOCK), BlockIntegrityError);
});

test("a tampered block on the hub is refused with a typed error and leaves no disk behind", async () => {
  const disk = makeDisk();
  const r = await backupDisk({ hub: hubUrl, key: alice, source: Readable.from([disk]) });
  // the hub holds the block under its id; an attacker with the hub's disk flips a byte of each data block of this backup
  const sealed = sealBackupBlock(backupKeyOf(alice), disk.subarray(BLOCK, 2 * BLOCK));
  const file = [...hubBlockFiles()].find((f) => f.endsWith(toHex(sealed.id)))!;
  assert.ok(file, "block 1 is on the hub");
  const good = readFileSync(file);
  const bad = Buffer.from(good);
  bad[bad.length - 1]! ^= 1;
  writeFileSync(file, bad);
  const target = join(dir, "tampered.img");
  try {
    await assert.rejects(restoreDisk({ hub: hubUrl, key: alice, manifest: r.manifest, target }), (e: unknown) => e instanceof BlockIntegrityError && /content hash/.test(e.message));
    assert.ok(!existsSync(target) && !existsSync(`${target}.restore`));
  } finally {
    writeFileSync(file, good);
  }
});

/** Uploads a root sealed with `key` (as a hostile or buggy twin could) and returns its id. */
async function putRoot(key: typeof alice, root: unknown): Promise<string> {
  const s = sealManifest(backupKeyOf(key), Buffer.from(JSON.stringify(root)));
  const p = `/blocks/${toHex(s.id).slice(0, 2)}/${toHex(s.id)}`;
  const res = await fetch(`${hubUrl}${p}`, { method: "PUT", body: s.data, headers: signHubRequest(key, "PUT", p) });
  assert.ok(res.ok, `hub stored the root (${res.status})`);
  return toHex(s.id);
}

test("bounded: hostile manifests, over-limit disks and bad ids are refused before anything is written", async () => {
  const target = join(dir, "bounded.img");
  const base = { format: BACKUP_FORMAT, blockSize: BLOCK, createdAt: 1, blocks: 0, pages: [] };
  const huge = await putRoot(alice, { ...base, size: 2 ** 52 });
  await assert.rejects(restoreDisk({ hub: hubUrl, key: alice, manifest: huge, target }), (e: unknown) => e instanceof BackupFormatError && /over the limit/.test(e.message));
  const small = await putRoot(alice, { ...base, size: 10 * BLOCK });
  await assert.rejects(restoreDisk({ hub: hubUrl, key: alice, manifest: small, target, limits: { maxDiskBytes: BLOCK } }), BackupFormatError);
  const manyPages = await putRoot(alice, { ...base, size: BLOCK, blocks: 5000, pages: Array.from({ length: 5000 }, () => ({ id: "00".repeat(32), ref: "00".repeat(32), entries: 1 })) });
  await assert.rejects(restoreDisk({ hub: hubUrl, key: alice, manifest: manyPages, target }), (e: unknown) => e instanceof BackupFormatError && /pages/.test(e.message));
  const lies = await putRoot(alice, { ...base, size: BLOCK, blocks: 3, pages: [{ id: "00".repeat(32), ref: "00".repeat(32), entries: 3 }] });
  await assert.rejects(restoreDisk({ hub: hubUrl, key: alice, manifest: lies, target }), (e: unknown) => e instanceof BackupFormatError && /3 block entries for 3 blocks of a 1-block disk/.test(e.message));
  const oddBlock = await putRoot(alice, { ...base, size: BLOCK, blockSize: 1000 });
  await assert.rejects(restoreDisk({ hub: hubUrl, key: alice, manifest: oddBlock, target }), BackupFormatError);
  await assert.rejects(restoreDisk({ hub: hubUrl, key: alice, manifest: "../../etc/passwd", target }), BackupFormatError);
  assert.ok(!existsSync(target) && !existsSync(`${target}.restore`));
  // pages: out of order, repeated, past the end
  const e = (index: number) => ({ index, id: Buffer.alloc(32), ref: Buffer.alloc(32) });
  assert.throws(() => parsePage(encodePage([e(2), e(1)]), 2, -1, 10), BackupFormatError);
  assert.throws(() => parsePage(encodePage([e(2), e(2)]), 2, -1, 10), BackupFormatError);
  assert.throws(() => parsePage(encodePage([e(10)]), 1, -1, 10), BackupFormatError);
  assert.throws(() => parsePage(encodePage([e(3)]), 1, 3, 10), BackupFormatError, "a page must continue after the previous one");
  assert.throws(() => parsePage(encodePage([e(1)]), 2, -1, 10), BackupFormatError, "entry count must match the root");
  // the source is bounded too
  await assert.rejects(backupDisk({ hub: hubUrl, key: alice, source: Readable.from([Buffer.alloc(3 * BLOCK, 1)]), maxDiskBytes: 2 * BLOCK }), BackupFormatError);
});
