// Paths of a hostile flist are resolved in its listing only: symlinks to host paths, `..` that
// climbs out, link loops; /image.raw as a symlink is refused as an image; answers never depend on
// the host (the same result whether the host has the target or not).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FlistReader, packFlist } from "@zgrid/flist";
import { FlistPathError, flistBootMode, resolveInFlist } from "./flist-path.ts";

async function flistOf(build: (root: string) => void, t: { after(f: () => void): void }): Promise<FlistReader> {
  const dir = mkdtempSync(join(tmpdir(), "flist-path-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  mkdirSync(root);
  build(root);
  const fl = join(dir, "x.fl");
  await packFlist({ source: root, output: fl, stores: [`dir://${join(dir, "blocks")}`] });
  const reader = FlistReader.open(fl);
  t.after(() => reader.close());
  return reader;
}

test("symlinks resolve inside the flist like the guest sees them, escapes are refused", async (t) => {
  const r = await flistOf((root) => {
    mkdirSync(join(root, "bin"));
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    writeFileSync(join(root, "bin/busybox"), "#!/bin/sh\n");
    symlinkSync("busybox", join(root, "bin/sh"));
    symlinkSync("../../bin/busybox", join(root, "usr/bin/env"));
    symlinkSync("/etc/shadow", join(root, "shadow"));        // absolute: the flist's /etc/shadow, not the host's
    symlinkSync("/etc", join(root, "etc-link"));
    symlinkSync("../../../../etc/passwd", join(root, "climb")); // relative, climbs above /
    symlinkSync("loop2", join(root, "loop1"));
    symlinkSync("loop1", join(root, "loop2"));
    symlinkSync("/bin", join(root, "b"));
  }, t);
  assert.deepEqual({ ...resolveInFlist(r, "/bin/sh"), inode: undefined }, { path: "/bin/busybox", type: "file", inode: undefined });
  assert.equal(resolveInFlist(r, "/usr/bin/env")?.path, "/bin/busybox");
  assert.equal(resolveInFlist(r, "/b/sh")?.path, "/bin/busybox", "a symlinked directory in the middle stays inside");
  assert.equal(resolveInFlist(r, "/bin/sh", { follow: false })?.type, "symlink");
  // the host has /etc/shadow and /etc/passwd; the flist has no /etc: "does not exist"
  assert.equal(resolveInFlist(r, "/shadow"), undefined);
  assert.equal(resolveInFlist(r, "/etc-link/shadow"), undefined);
  assert.equal(resolveInFlist(r, "/etc/shadow"), undefined);
  assert.equal(resolveInFlist(r, "/etc/no-such-file-on-the-host"), undefined, "same answer for host paths that exist and do not");
  for (const p of ["/../../../etc/shadow", "/bin/../../etc/passwd", "/climb"]) {
    assert.throws(() => resolveInFlist(r, p), (e: unknown) => e instanceof FlistPathError && /leaves the flist's root/.test(e.message), p);
  }
  assert.throws(() => resolveInFlist(r, "/loop1"), /too many levels of symbolic links/);
  assert.throws(() => resolveInFlist(r, "relative/path"), /not an absolute path/);
  assert.equal(flistBootMode(r), "container");
});

test("/image.raw must be a regular file to boot as a full VM", async (t) => {
  const link = await flistOf((root) => symlinkSync("/etc/shadow", join(root, "image.raw")), t);
  assert.throws(() => flistBootMode(link), (e: unknown) => e instanceof FlistPathError && /symbolic link, not a regular file/.test(e.message));
  const dir = await flistOf((root) => mkdirSync(join(root, "image.raw")), t);
  assert.throws(() => flistBootMode(dir), /directory, not a regular file/);
  const image = await flistOf((root) => writeFileSync(join(root, "image.raw"), Buffer.alloc(4096)), t);
  assert.equal(flistBootMode(image), "image");
});
