import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync, statSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twinKeyFromMnemonic } from "@zgrid/types";
import { FlistFormatError, SignatureError, UnpackError, BlockIntegrityError, BlockNotFoundError } from "./errors/flist-errors.ts";
import { FlistReader } from "./format/flist-reader.ts";
import { editFlist } from "./format/edit-flist.ts";
import { packFlist } from "./pack/pack-flist.ts";
import { signFlist } from "./sign/sign-flist.ts";
import { unpackFlist } from "./unpack-flist.ts";
import { verifyFlist } from "./verify-flist.ts";
import { assertSameTree, describeTree, makeSampleTree } from "./testing/sample-tree.ts";

const MNEMONIC = "test test test test test test test test test test test junk";

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-flist-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("pack -> unpack of a tree with every file type equals the source, metadata included", async (t) => {
  const dir = tempDir(t);
  makeSampleTree(join(dir, "src"));
  const stats = await packFlist({ source: join(dir, "src"), output: join(dir, "a.fl"), stores: [`dir://${join(dir, "store")}`] });
  assert.equal(stats.links, 1);
  assert.ok(stats.blocks >= 4);
  await unpackFlist({ flist: join(dir, "a.fl"), target: join(dir, "out") });
  assertSameTree(describeTree(join(dir, "out")), describeTree(join(dir, "src")), { mtimeToleranceUs: 1 });
  assert.deepEqual(readdirSync(dir).sort(), ["a.fl", "out", "src", "store"]);
  const reader = FlistReader.open(join(dir, "a.fl"));
  t.after(() => reader.close());
  assert.equal(reader.tag("block-size"), String(512 * 1024));
  assert.equal(reader.routes()[0]!.url, `dir://${join(dir, "store")}`);
});

test("sign -> verify; tampering with the listing or a block is detected and named", async (t) => {
  const dir = tempDir(t);
  makeSampleTree(join(dir, "src"), { bigFileBytes: 600_000 });
  const fl = join(dir, "a.fl");
  const store = join(dir, "store");
  await packFlist({ source: join(dir, "src"), output: fl, stores: [`dir://${store}`] });
  const key = twinKeyFromMnemonic(MNEMONIC);
  const signed = await signFlist(fl, key);
  assert.equal(signed.signer, key.address);
  const report = await verifyFlist({ flist: fl, trustedSigners: [key.address] });
  assert.equal(report.ok, true);
  assert.equal(report.signer, key.address);
  assert.ok(report.blocks > 0);

  await assert.rejects(verifyFlist({ flist: fl, trustedSigners: ["0x0000000000000000000000000000000000000001"] }), SignatureError);

  // A changed tag (e.g. the entrypoint) breaks the signature.
  const edited = join(dir, "edited.fl");
  editFlist(fl, { setTags: { "zgrid.entrypoint": "/bin/evil" } }, edited);
  await assert.rejects(verifyFlist({ flist: edited }), SignatureError);
  await assert.rejects(unpackFlist({ flist: edited, target: join(dir, "x") }), SignatureError);
  // Routes are not signed: a hub may move the blocks.
  editFlist(fl, { routes: [{ start: 0, end: 255, url: `dir://${store}` }] }, edited);
  assert.equal((await verifyFlist({ flist: edited })).ok, true);

  // Tamper with one block of bin/big in the store.
  const reader = FlistReader.open(fl);
  const big = [...reader.walk()].find((e) => e.path.toString() === "/bin/big")!;
  const blockId = reader.blocks(big.inode.ino)[0]!.id;
  reader.close();
  const file = join(store, Buffer.from(blockId).toString("hex")); // flat layout (released rfs)
  const bytes = readFileSync(file);
  bytes[100] = bytes[100]! ^ 0xff;
  writeFileSync(file, bytes);
  const bad = await verifyFlist({ flist: fl });
  assert.equal(bad.ok, false);
  assert.equal(bad.failures.length, 1);
  assert.equal(bad.failures[0]!.id, Buffer.from(blockId).toString("hex"));
  assert.deepEqual(bad.failures[0]!.files, ["/bin/big"]);
  await assert.rejects(unpackFlist({ flist: fl, target: join(dir, "out") }), BlockIntegrityError);
  assert.equal(existsSync(join(dir, "out")), false, "nothing half-written is left");
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes("partial")), []);

  rmSync(file);
  const missing = await verifyFlist({ flist: fl });
  assert.match(missing.failures[0]!.reason, /not found/);
  await assert.rejects(unpackFlist({ flist: fl, target: join(dir, "out") }), BlockNotFoundError);
});

test("truncated, corrupt and non-flist files fail with a clear FlistFormatError", async (t) => {
  const dir = tempDir(t);
  makeSampleTree(join(dir, "src"), { bigFileBytes: 10 });
  const fl = join(dir, "a.fl");
  await packFlist({ source: join(dir, "src"), output: fl, stores: [`dir://${join(dir, "store")}`] });
  const size = statSync(fl).size;
  const cut = join(dir, "cut.fl");
  writeFileSync(cut, readFileSync(fl).subarray(0, Math.floor(size / 2)));
  assert.throws(() => FlistReader.open(cut), (e) => e instanceof FlistFormatError && /truncated/.test(e.message));
  const junk = join(dir, "junk.fl");
  writeFileSync(junk, "hello, not sqlite");
  assert.throws(() => FlistReader.open(junk), FlistFormatError);
  const corrupt = join(dir, "corrupt.fl");
  const b = readFileSync(fl);
  for (let i = 4096; i < b.length; i += 7) b[i] = 0x55;
  writeFileSync(corrupt, b);
  assert.throws(() => { const r = FlistReader.open(corrupt); try { assert.ok([...r.walk()].length >= 0); } finally { r.close(); } }, FlistFormatError);
  assert.throws(() => FlistReader.open(join(dir, "nope.fl")), FlistFormatError);
  const absurd = join(dir, "absurd.fl");
  editFlist(fl, { setTags: { "block-size": "99999999999" } }, absurd);
  await assert.rejects(verifyFlist({ flist: absurd }), (e) => e instanceof FlistFormatError && /absurd block-size/.test(e.message));
  truncateSync(fl, 0);
  assert.throws(() => FlistReader.open(fl), FlistFormatError);
});

test("unpack refuses a non-empty target and hostile names", async (t) => {
  const dir = tempDir(t);
  makeSampleTree(join(dir, "src"), { bigFileBytes: 10 });
  const fl = join(dir, "a.fl");
  await packFlist({ source: join(dir, "src"), output: fl, stores: [`dir://${join(dir, "store")}`] });
  writeFileSync(join(dir, "src", "extra"), "x");
  await assert.rejects(unpackFlist({ flist: fl, target: join(dir, "src") }), UnpackError);
  // A listing entry named ".." (path traversal) is refused before anything is written.
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(fl);
  db.prepare("update inode set name = '..' where name = 'etc'").run();
  db.close();
  await assert.rejects(unpackFlist({ flist: fl, target: join(dir, "out") }), FlistFormatError);
  const db2 = new DatabaseSync(fl);
  db2.prepare("update inode set name = 'a/../../b' where name = '..'").run();
  db2.prepare("update inode set size = 99999999999 where name = 'hostname'").run();
  db2.close();
  await assert.rejects(unpackFlist({ flist: fl, target: join(dir, "out") }), FlistFormatError);
  assert.equal(existsSync(join(dir, "out")), false);
  assert.equal(existsSync(join(dir, "b")), false);
  // An entry hanging under a symlink (which points outside) is refused: nothing is written through it.
  const db3 = new DatabaseSync(fl);
  db3.prepare("update inode set name = 'etc' where name = 'a/../../b'").run();
  db3.prepare("update inode set size = 6 where name = 'hostname'").run();
  db3.prepare("update inode set parent = (select ino from inode where name = 'abs-link') where name = 'hostname'").run();
  db3.close();
  await assert.rejects(unpackFlist({ flist: fl, target: join(dir, "out") }), /not reachable from the root/);
  assert.equal(existsSync(join(dir, "out")), false);
});
