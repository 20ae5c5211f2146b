import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistFormatError } from "../errors/flist-errors.ts";
import { readFlistMeta } from "../read-flist-meta.ts";
import { FlistReader } from "./flist-reader.ts";
import { FlistWriter, type NewInode } from "./flist-writer.ts";
import { resolveInListing } from "./resolve-in-listing.ts";

const base = { size: 0, uid: 0, gid: 0, rdev: 0, ctime: 0, mtime: 0, mtimeNsec: 0 };

function listing(dir: string, name: string, build: (add: (parent: number, name: string, mode: number, target?: string) => number) => void): string {
  const path = join(dir, name);
  const w = new FlistWriter(path);
  const add = (parent: number, n: string, mode: number, target?: string): number => {
    const inode: NewInode = { ...base, parent, name: Buffer.from(n), mode };
    if (target !== undefined) inode.target = Buffer.from(target);
    return w.addInode(inode);
  };
  add(0, "/", 0o40755);
  build(add);
  w.finish();
  return path;
}

test("resolveInListing: symlinks resolve inside the listing only; the last one is not followed unless asked", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-resolve-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fl = listing(dir, "a.fl", (add) => {
    const usr = add(1, "usr", 0o40755);
    const bin = add(usr, "bin", 0o40755);
    add(bin, "busybox", 0o100755);
    add(1, "bin", 0o120777, "usr/bin");
    add(bin, "sh", 0o120777, "/usr/bin/busybox");
    add(1, "image.raw", 0o120777, "/etc/shadow");
    add(1, "up", 0o120777, "../../../../usr/bin/busybox");
    add(1, "loop", 0o120777, "loop");
  });
  const r = FlistReader.open(fl);
  t.after(() => r.close());
  assert.equal(resolveInListing(r, "/image.raw")?.type, "symlink", "lstat semantics: the entry's own type");
  assert.equal(resolveInListing(r, "/image.raw", { follow: true }), undefined, "/etc/shadow is looked up in the listing, where it does not exist");
  const sh = resolveInListing(r, "/bin/sh", { follow: true })!;
  assert.deepEqual([sh.type, sh.path, sh.escaped], ["file", "/usr/bin/busybox", false]);
  assert.equal(resolveInListing(r, "/bin/sh")?.type, "symlink");
  const up = resolveInListing(r, "/up", { follow: true })!;
  assert.deepEqual([up.type, up.path, up.escaped], ["file", "/usr/bin/busybox", true], "`..` above the root stays at the root and is reported");
  const dots = resolveInListing(r, "/../../../usr/./bin/busybox")!;
  assert.deepEqual([dots.type, dots.escaped], ["file", true]);
  assert.equal(resolveInListing(r, "/usr/bin/busybox/x"), undefined, "a file is not a directory");
  assert.throws(() => resolveInListing(r, "/loop", { follow: true }), FlistFormatError);
  assert.equal(resolveInListing(r, "/")?.type, "dir");
});

test("readFlistMeta: mode comes from the entry's type — a symlink /image.raw or /boot/vmlinuz is a plain container", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-resolve-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const evil = listing(dir, "evil.fl", (add) => {
    add(1, "image.raw", 0o120777, "/etc/shadow");
    const boot = add(1, "boot", 0o40755);
    add(boot, "vmlinuz", 0o120777, "/boot/vmlinuz-host");
  });
  assert.equal(readFlistMeta(evil).mode, "container");
  const img = listing(dir, "img.fl", (add) => { add(1, "image.raw", 0o100644); });
  assert.equal(readFlistMeta(img).mode, "image");
  const dirImage = listing(dir, "dir.fl", (add) => { add(1, "image.raw", 0o40755); });
  assert.equal(readFlistMeta(dirImage).mode, "container", "a directory named image.raw is not an image");
});
