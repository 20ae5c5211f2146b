import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistReader } from "../format/flist-reader.ts";
import { packFlist } from "../pack/pack-flist.ts";
import { makeSampleTree } from "../testing/sample-tree.ts";
import { BlockFetcher } from "./block-fetcher.ts";
import { FlistFs } from "./flist-fs.ts";

function fsOf(flist: string): { fs: FlistFs; reader: FlistReader } {
  const reader = FlistReader.open(flist);
  const store = { get: async () => { throw new Error("no block read in this test"); } } as unknown as ConstructorParameters<typeof BlockFetcher>[0]["store"];
  return { fs: new FlistFs(reader, new BlockFetcher({ store })), reader };
}

test("hard links: every name of a linked file shows one inode number and the number of its names", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-flistfs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  makeSampleTree(join(dir, "src"));
  await packFlist({ source: join(dir, "src"), output: join(dir, "a.fl"), stores: [`dir://${join(dir, "store")}`] });
  const { fs, reader } = fsOf(join(dir, "a.fl"));
  const a = fs.identity(fs.resolve("/bin/entry.sh")!);
  const b = fs.identity(fs.resolve("/bin/entry-hardlink")!);
  assert.deepEqual(a, b);
  assert.equal(a.nlink, 2);
  const other = fs.identity(fs.resolve("/bin/rel-link")!);
  assert.notEqual(other.ino, a.ino);
  assert.equal(other.nlink, 1);
  reader.close();

  // A hostile listing: the link points at a directory (the root). The name stays a file of its own.
  const [first, second] = ["/bin/entry.sh", "/bin/entry-hardlink"].map((p) => fs.resolve(p)!).sort((x, y) => (x.link === undefined ? -1 : 0) - (y.link === undefined ? -1 : 0));
  assert.ok(first!.link === undefined && second!.link === first!.ino, "the flist keeps the link");
  const db = new DatabaseSync(join(dir, "a.fl"));
  db.prepare("update zgrid_inode set link = 1 where ino = ?").run(second!.ino);
  db.close();
  const hostile = fsOf(join(dir, "a.fl"));
  assert.deepEqual(hostile.fs.identity(hostile.reader.inode(second!.ino)!), { ino: second!.ino, nlink: 1 });
  assert.deepEqual(hostile.fs.identity(hostile.reader.inode(first!.ino)!), { ino: first!.ino, nlink: 1 });
  hostile.reader.close();
});
