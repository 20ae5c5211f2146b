import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirStore } from "../store/dir-store.ts";
import { unpackFlist } from "../unpack-flist.ts";
import { verifyFlist } from "../verify-flist.ts";
import { readFlistMeta } from "../read-flist-meta.ts";
import { encodeBlock } from "./block-codec.ts";
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
