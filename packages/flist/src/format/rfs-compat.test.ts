import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirStore } from "../store/dir-store.ts";
import { unpackFlist } from "../unpack-flist.ts";
import { verifyFlist } from "../verify-flist.ts";
import { readFlistMeta } from "../read-flist-meta.ts";
import { FlistFormatError } from "../errors/flist-errors.ts";
import { packFlist } from "../pack/pack-flist.ts";
import { encodeBlock } from "./block-codec.ts";
import { FlistReader } from "./flist-reader.ts";
import { RFS_SCHEMA } from "./schema.ts";

test("an flist written the way rfs writes it (rfs tables only, no block-size tag) unpacks and verifies", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-rfs-compat-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new DirStore(join(dir, "store"));
  const fl = join(dir, "rfs.fl");
  const db = new DatabaseSync(fl);
  db.exec(RFS_SCHEMA);
  const inode = db.prepare("insert into inode (parent, name, size, uid, gid, mode, rdev, ctime, mtime) values (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const root = Number(inode.run(0, "/", 0, 0, 0, 0o40755, 0, 1_700_000_000, 1_700_000_000).lastInsertRowid);
  const etc = Number(inode.run(root, "etc", 0, 0, 0, 0o40755, 0, 1_700_000_000, 1_700_000_000).lastInsertRowid);
  const content = Buffer.concat([Buffer.alloc(512 * 1024, "a"), Buffer.from("tail\n")]);
  const file = Number(inode.run(etc, "data", content.length, 1000, 1000, 0o100640, 0, 1_700_000_000, 1_700_000_001).lastInsertRowid);
  const link = Number(inode.run(root, "link", 9, 0, 0, 0o120777, 0, 1_700_000_000, 1_700_000_000).lastInsertRowid);
  db.prepare("insert into extra (ino, data) values (?, ?)").run(link, "etc/data");
  for (const piece of [content.subarray(0, 512 * 1024), content.subarray(512 * 1024)]) {
    const b = encodeBlock(piece);
    await store.set(b.id, b.data);
    db.prepare("insert into block (ino, id, key) values (?, ?, ?)").run(file, b.id, b.key);
  }
  db.prepare("insert into tag (key, value) values (?, ?)").run("version", "v1");
  db.prepare("insert into route (start, end, url) values (?, ?, ?)").run(0, 255, `dir://${join(dir, "store")}`);
  db.close();

  const meta = readFlistMeta(fl);
  assert.equal(meta.blockSize, 512 * 1024);
  assert.equal(meta.files, 1);
  assert.equal(meta.signer, undefined);
  assert.equal((await verifyFlist({ flist: fl })).ok, true);
  await unpackFlist({ flist: fl, target: join(dir, "out") });
  assert.ok(readFileSync(join(dir, "out/etc/data")).equals(content));
  assert.equal(readlinkSync(join(dir, "out/link")), "etc/data");
  const st = statSync(join(dir, "out/etc/data"));
  assert.equal(st.mode & 0o7777, 0o640);
  assert.equal(st.uid, 1000);
  assert.equal(st.mtimeMs, 1_700_000_001_000);
});

test("pack writes what released rfs (v2.0.x) reads: lstat sizes, text names, floored mtimes, flat dir store; unpack restores exact names and negative mtimes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-rfs-compat-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, "src");
  mkdirSync(join(src, "sub"), { recursive: true });
  writeFileSync(join(src, "sub", "file"), Buffer.alloc(600_000, 3));
  symlinkSync("sub/file", join(src, "link"));
  const latin1 = Buffer.concat([Buffer.from(src), Buffer.from("/caf\xe9", "latin1")]); // not UTF-8
  writeFileSync(latin1, "bytes");
  utimesSync(join(src, "sub", "file"), "-1.5", "-1.5"); // before 1970: st_mtime -2, st_mtime_nsec 5e8
  const store = join(dir, "store");
  const fl = join(dir, "a.fl");
  await packFlist({ source: src, output: fl, stores: [`dir://${store}`], xattrs: false });

  // Read the listing the way rfs does: every name is TEXT in valid UTF-8, sizes/mtimes from lstat.
  const db = new DatabaseSync(fl, { readOnly: true });
  const rows = db.prepare("select ino, parent, name, typeof(name) as t, size, mode, mtime from inode").all() as Array<{ ino: number; name: string; t: string; size: number; mode: number; mtime: number }>;
  db.close();
  assert.ok(rows.every((r) => r.t === "text"), "rfs's reader panics on a BLOB name");
  const byName = new Map(rows.map((r) => [r.name, r]));
  assert.equal(byName.get("sub")!.size, lstatSync(join(src, "sub")).size, "directory: lstat size");
  assert.equal(byName.get("link")!.size, "sub/file".length, "symlink: target length");
  assert.equal(byName.get("file")!.mtime, -2, "mtime -1.5 s is stored as -2 s (floor), as rfs's st_mtime");
  assert.ok(byName.has("caf\uFFFD"), "a non-UTF-8 name is stored as its lossy UTF-8 text");
  // Released rfs's dir store reads <root>/<id hex>.
  const reader = FlistReader.open(fl);
  try {
    for (const b of reader.allBlocks()) assert.ok(existsSync(join(store, Buffer.from(b.id).toString("hex"))), "flat layout");
    const file = [...reader.walk()].find((e) => e.path.toString() === "/sub/file")!.inode;
    assert.deepEqual([file.mtime, file.mtimeNsec], [-2, 500_000_000]);
  } finally {
    reader.close();
  }
  await unpackFlist({ flist: fl, target: join(dir, "out") });
  assert.ok(readdirSync(join(dir, "out"), { encoding: "buffer" }).some((n) => n.equals(Buffer.from("caf\xe9", "latin1"))), "exact bytes from zgrid_name");
  assert.equal(statSync(join(dir, "out", "sub", "file")).mtimeMs, -1500, "negative mtime restored, not 'now'");
  // The sharded layout of rfs's development branch is still read, and has() sees both.
  const sharded = new DirStore(join(dir, "sharded"), { layout: "sharded" });
  const both = new DirStore(join(dir, "sharded"));
  const b = encodeBlock(Buffer.from("x"));
  await sharded.set(b.id, b.data);
  assert.equal(await both.has(b.id), true);
  assert.ok(Buffer.from(await both.get(b.id)).equals(Buffer.from(b.data)));
});

test("pack refuses a block size other than rfs's 512 KiB unless forced", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-rfs-compat-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "f"), "x");
  const opts = { source: join(dir, "src"), output: join(dir, "a.fl"), stores: [`dir://${join(dir, "store")}`], blockSize: 256 * 1024, xattrs: false };
  await assert.rejects(packFlist(opts), (e: unknown) => e instanceof FlistFormatError && /not rfs's 512 KiB/.test(e.message) && /--force/.test(e.message));
  assert.equal(existsSync(join(dir, "a.fl")), false);
  await packFlist({ ...opts, force: true });
  assert.equal(readFlistMeta(join(dir, "a.fl")).blockSize, 256 * 1024);
});
