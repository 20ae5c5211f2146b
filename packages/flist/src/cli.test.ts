import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FlistReader } from "./format/flist-reader.ts";
import { toHex } from "./format/hash.ts";
import { makeSampleTree } from "./testing/sample-tree.ts";

const BIN = fileURLToPath(new URL("../bin/flist.ts", import.meta.url));
const MNEMONIC = "test test test test test test test test test test test junk";

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--no-warnings", BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("the bin packs, tags, signs, inspects, lists and verifies; verify names a tampered block", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-cli-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  makeSampleTree(join(dir, "src"), { bigFileBytes: 700_000 });
  const fl = join(dir, "a.fl");
  const store = `dir://${join(dir, "store")}`;
  assert.equal(cli(["pack", join(dir, "src"), "-o", fl, "--store", store, "--tag", "description=test"]).status, 0);
  assert.equal(cli(["tag", fl, "--set", "version=1"]).status, 0);
  const signed = cli(["sign", fl], { ZGRID_MNEMONIC: MNEMONIC });
  assert.equal(signed.status, 0, signed.stderr);
  const meta = JSON.parse(cli(["inspect", fl]).stdout) as { signer: string; tags: Record<string, string>; files: number };
  assert.equal(meta.signer, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  assert.equal(meta.tags.description, "test");
  assert.match(cli(["ls", fl]).stdout, /\/bin\/rel-link -> entry.sh/);
  const ok = cli(["verify", fl, "--trusted", meta.signer]);
  assert.equal(ok.status, 0, ok.stderr);

  const reader = FlistReader.open(fl);
  const big = [...reader.walk()].find((e) => e.path.toString() === "/bin/big")!;
  const id = reader.blocks(big.inode.ino)[0]!.id;
  reader.close();
  const file = join(dir, "store", toHex(id)); // flat layout (released rfs)
  const bytes = readFileSync(file);
  bytes[0] = bytes[0]! ^ 0x80;
  writeFileSync(file, bytes);
  const bad = cli(["verify", fl]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, new RegExp(`BAD BLOCK ${Buffer.from(id).toString("hex")}: .*\\(in /bin/big\\)`));
  const unknown = cli(["frobnicate"]);
  assert.equal(unknown.status, 2);
  const missing = cli(["verify", join(dir, "nope.fl")]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /FLIST_FORMAT/);
});
