/**
 * Test support: builds a tree with every file type and compares two trees, metadata included.
 *
 * @example
 * ```ts
 * makeSampleTree("/tmp/src");
 * assert.deepEqual(describeTree("/tmp/out"), describeTree("/tmp/src"));
 * ```
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTreeXattrs } from "../pack/xattrs.ts";

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr?.toString()}`);
}

/** Creates regular files (empty, small, multi-block), dirs, symlinks, a hard link, devices, a FIFO, xattrs, a non-UTF-8 name. */
export function makeSampleTree(root: string, options: { bigFileBytes?: number } = {}): void {
  mkdirSync(join(root, "etc/conf.d"), { recursive: true });
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "dev"), { recursive: true });
  mkdirSync(join(root, "empty-dir"), { recursive: true });
  writeFileSync(join(root, "etc/hostname"), "zgrid\n");
  writeFileSync(join(root, "etc/empty"), "");
  writeFileSync(join(root, "etc/conf.d/app.conf"), "key=value\n".repeat(1000));
  writeFileSync(join(root, "bin/big"), randomBytes(options.bigFileBytes ?? 1_300_000));
  writeFileSync(join(root, "bin/entry.sh"), "#!/bin/sh\necho started\n");
  chmodSync(join(root, "bin/entry.sh"), 0o755);
  writeFileSync(join(root, "bin/suid"), "x");
  chmodSync(join(root, "bin/suid"), 0o4755);
  linkSync(join(root, "bin/entry.sh"), join(root, "bin/entry-hardlink"));
  symlinkSync("entry.sh", join(root, "bin/rel-link"));
  symlinkSync("/etc/hostname", join(root, "abs-link"));
  symlinkSync("does/not/exist", join(root, "dangling"));
  writeFileSync(Buffer.from([...Buffer.from(root + "/etc/latin1-"), 0xe9, 0xff]), "non-utf8 name\n");
  run("mknod", ["-m", "666", join(root, "dev/null"), "c", "1", "3"]);
  run("mknod", ["-m", "660", join(root, "dev/loop9"), "b", "7", "9"]);
  run("mkfifo", ["-m", "644", join(root, "dev/fifo")]);
  run("setfattr", ["-n", "user.zgrid", "-v", "hello", join(root, "etc/hostname")]);
  run("setfattr", ["-n", "user.bin", "-v", "0x00ff10", join(root, "bin/big")]);
  lchownSync(join(root, "etc/conf.d/app.conf"), 1234, 5678);
  lchownSync(join(root, "abs-link"), 42, 43);
  lutimesSync(join(root, "etc/hostname"), 1_600_000_000.123456, 1_600_000_000.123456);
  lutimesSync(join(root, "abs-link"), 1_500_000_000, 1_500_000_000);
}

export interface EntryDescription {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  rdev: number;
  /** mtime in microseconds (what Node can set back). */
  mtimeUs: number;
  target?: string;
  sha256?: string;
  /** Other paths of the same inode (hard links). */
  links?: string[];
  xattrs?: string;
}

/** A sorted, comparable description of a tree (the root's own mtime left out). */
export function describeTree(root: string): EntryDescription[] {
  const out: EntryDescription[] = [];
  const byIno = new Map<string, string[]>();
  const xattrs = readTreeXattrs(root);
  const visit = (abs: Buffer, rel: string): void => {
    const st = lstatSync(abs, { bigint: true });
    const mode = Number(st.mode);
    const e: EntryDescription = {
      path: rel, mode, uid: Number(st.uid), gid: Number(st.gid), size: st.isDirectory() ? 0 : Number(st.size), rdev: Number(st.rdev),
      mtimeUs: rel === "/" ? 0 : Number(st.mtimeNs / 1000n),
    };
    if (st.isSymbolicLink()) e.target = readlinkSync(abs, { encoding: "buffer" }).toString("hex");
    if (st.isFile()) e.sha256 = createHash("sha256").update(readFileSync(abs)).digest("hex");
    if (st.isFile() && st.nlink > 1n) {
      const key = String(st.ino);
      byIno.set(key, [...(byIno.get(key) ?? []), rel]);
      e.links = byIno.get(key);
    }
    const x = xattrs.get(abs.toString("latin1"));
    if (x) e.xattrs = x.map((a) => `${a.name.toString("hex")}=${a.value.toString("hex")}`).sort().join(",");
    out.push(e);
    if (st.isDirectory()) {
      for (const name of readdirSync(abs, { encoding: "buffer" }).sort(Buffer.compare)) {
        visit(Buffer.concat([abs, Buffer.from("/"), name]), `${rel === "/" ? "" : rel}/${name.toString("latin1")}`);
      }
    }
  };
  visit(Buffer.from(root), "/");
  return out;
}

/**
 * Asserts two described trees are equal, mtimes within a tolerance: unpack restores mtimes through
 * a double of seconds (sub-microsecond error), tar layers carry whole seconds.
 */
export function assertSameTree(actual: EntryDescription[], expected: EntryDescription[], options: { mtimeToleranceUs: number; skip?: (e: EntryDescription) => boolean; what?: string }): void {
  const keep = (l: EntryDescription[]): EntryDescription[] => l.filter((e) => !options.skip?.(e));
  const strip = (l: EntryDescription[]): unknown[] => keep(l).map(({ mtimeUs: _m, ...rest }) => rest);
  assert.deepEqual(strip(actual), strip(expected), options.what);
  const a = keep(actual);
  keep(expected).forEach((e, i) => {
    const d = Math.abs(a[i]!.mtimeUs - e.mtimeUs);
    assert.ok(d <= options.mtimeToleranceUs, `${options.what ?? ""}: mtime of ${e.path} differs by ${d} us`);
  });
}
