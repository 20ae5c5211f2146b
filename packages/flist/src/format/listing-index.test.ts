import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistFormatError } from "../errors/flist-errors.ts";
import { computeRootDigest } from "../sign/root-digest.ts";
import { writeDirListing } from "../testing/hostile-listing.ts";
import { FlistReader } from "./flist-reader.ts";

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-listing-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Open + index + walk + root digest: everything a node or hub does with a listing before use. */
async function validate(path: string): Promise<number> {
  const started = performance.now();
  const r = FlistReader.open(path);
  try {
    let n = 0;
    for (const e of r.walk()) n += e.path.length > 0 ? 1 : 0;
    await computeRootDigest(r);
    assert.ok(n > 0);
  } finally {
    r.close();
  }
  return performance.now() - started;
}

async function best(path: string, runs: number): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) min = Math.min(min, await validate(path));
  return min;
}

test("a 30,000-directory listing without rfs's index validates in linear time (N vs 4N ratio, not quadratic)", async (t) => {
  const dir = tmp(t);
  const small = writeDirListing(join(dir, "small.fl"), { dirs: 7_500 });
  const big = writeDirListing(join(dir, "big.fl"), { dirs: 30_000 });
  const db = new DatabaseSync(big, { readOnly: true });
  assert.equal((db.prepare("select count(*) as n from sqlite_master where type = 'index' and tbl_name = 'inode'").get() as { n: number }).n, 0, "no index at all, as an attacker sends it");
  db.close();
  await validate(small); // warm up (JIT, wasm)
  const a = await best(small, 3);
  const b = await best(big, 3);
  const ratio = b / a;
  t.diagnostic(`7,500 dirs: ${a.toFixed(1)} ms, 30,000 dirs: ${b.toFixed(1)} ms, ratio ${ratio.toFixed(2)} (linear 4, quadratic 16)`);
  // Loose bound: N log N gives ~4.5; the old per-directory scans gave ~16.
  assert.ok(ratio < 9, `work grows faster than N log N: ratio ${ratio.toFixed(2)}`);
  const r = FlistReader.open(big);
  try {
    assert.equal(r.children(1).length, 16);
    assert.equal([...r.walk()].length, 30_001);
  } finally {
    r.close();
  }
});

test("limits: entries, depth, name length, total size and blocks are refused with the limit named", async (t) => {
  const dir = tmp(t);
  const many = writeDirListing(join(dir, "many.fl"), { dirs: 2_000 });
  assert.throws(() => FlistReader.open(many, { limits: { maxEntries: 1_000 } }), (e: unknown) => e instanceof FlistFormatError && /2001 entries, more than the limit of 1000/.test(e.message));

  const deep = writeDirListing(join(dir, "deep.fl"), { dirs: 300, fanout: 1 });
  const r = FlistReader.open(deep);
  try {
    assert.throws(() => r.root(), (e: unknown) => e instanceof FlistFormatError && /nested deeper than 256/.test(e.message));
  } finally {
    r.close();
  }
  const long = writeDirListing(join(dir, "long.fl"), { dirs: 3, name: (i) => (i === 2 ? "x".repeat(256) : `d${i}`) });
  const r2 = FlistReader.open(long);
  try {
    assert.throws(() => [...r2.walk()], (e: unknown) => e instanceof FlistFormatError && /256 bytes, more than 255/.test(e.message));
  } finally {
    r2.close();
  }
  const huge = writeDirListing(join(dir, "huge.fl"), { dirs: 1 });
  const db = new DatabaseSync(huge);
  db.prepare("insert into inode (parent, name, size, uid, gid, mode, rdev, ctime, mtime) values (1, 'f', ?, 0, 0, ?, 0, 0, 0)").run(5 * 2 ** 40, 0o100644);
  db.prepare("insert into block (ino, id, key) values (1, ?, ?)").run(Buffer.alloc(32), Buffer.alloc(32));
  db.prepare("insert into block (ino, id, key) values (1, ?, ?)").run(Buffer.alloc(32), Buffer.alloc(32));
  db.close();
  assert.throws(() => FlistReader.open(huge), (e: unknown) => e instanceof FlistFormatError && /bytes, more than the limit of 4398046511104/.test(e.message));
  assert.throws(() => FlistReader.open(huge, { limits: { maxTotalBytes: 2 ** 50, maxBlocks: 1 } }), (e: unknown) => e instanceof FlistFormatError && /2 blocks, more than the limit of 1/.test(e.message));
  assert.throws(() => FlistReader.open(huge, { limits: { maxListingBytes: 1024 } }), (e: unknown) => e instanceof FlistFormatError && /more than the limit of 1024/.test(e.message));
});

test("hostile structure: unreachable entries, duplicate names and a root listed as its own child are refused", async (t) => {
  const dir = tmp(t);
  const cases: Array<[string, string, RegExp]> = [
    ["orphan", "insert into inode (ino, parent, name, size, uid, gid, mode, rdev, ctime, mtime) values (50, 999, 'x', 0, 0, 0, 33188, 0, 0, 0)", /not reachable/],
    ["dup", "insert into inode (ino, parent, name, size, uid, gid, mode, rdev, ctime, mtime) values (50, 1, 'd0', 0, 0, 0, 33188, 0, 0, 0)", /duplicate name d0/],
    ["cycle", "update inode set parent = 4 where ino = 2", /not reachable/],
    ["slash", "update inode set name = 'a/b' where ino = 2", /unsafe entry name/],
  ];
  for (const [name, sql, re] of cases) {
    const fl = writeDirListing(join(dir, `${name}.fl`), { dirs: 4, fanout: 2 });
    const db = new DatabaseSync(fl);
    db.exec(sql);
    db.close();
    const r = FlistReader.open(fl);
    try {
      assert.throws(() => [...r.walk()], (e: unknown) => e instanceof FlistFormatError && re.test(e.message), name);
    } finally {
      r.close();
    }
  }
});

test("limits: a flood of routes or tags is refused at open", (t) => {
  const dir = tmp(t);
  const fl = writeDirListing(join(dir, "routes.fl"), { dirs: 1 });
  const db = new DatabaseSync(fl);
  db.exec("BEGIN");
  for (let i = 0; i < 300; i++) db.prepare("insert into route (start, end, url) values (0, 255, ?)").run(`http://10.0.0.${i % 250}/blocks`);
  for (let i = 0; i < 1100; i++) db.prepare("insert into tag (key, value) values (?, 'x')").run(`k${i}`);
  db.exec("COMMIT");
  db.close();
  assert.throws(() => FlistReader.open(fl), (e: unknown) => e instanceof FlistFormatError && /1100 tags, more than the limit of 1000/.test(e.message));
  assert.throws(() => FlistReader.open(fl, { limits: { maxTags: 2000 } }), (e: unknown) => e instanceof FlistFormatError && /300 routes, more than the limit of 256/.test(e.message));
});
