import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { buildRelease } from "./build-release.ts";
import { installRelease } from "./install-release.ts";
import { acceptsPrevious, openReleaseFile, releaseFileHash } from "./release-manifest.ts";
import { ReleaseRejectedError } from "../errors.ts";

const releaseKey = twinKeyFromPrivateKey(`0x${"11".repeat(32)}`);
const otherKey = twinKeyFromPrivateKey(`0x${"22".repeat(32)}`);

/** A tiny project checkout: what buildRelease needs, small enough for a unit test. */
function fakeCheckout(dir: string): string {
  const root = join(dir, "checkout");
  mkdirSync(join(root, "packages", "zos", "bin"), { recursive: true });
  mkdirSync(join(root, "node_modules", "dep"), { recursive: true });
  writeFileSync(join(root, "package.json"), "{}\n");
  writeFileSync(join(root, "packages", "zos", "bin", "zosd.ts"), "console.log('zosd')\n");
  writeFileSync(join(root, "node_modules", "dep", "index.js"), Buffer.alloc(700_000, 1));
  return root;
}

test("build -> install: signed manifest + flist, unpacked into a versioned dir; the checkout is never written through the stage's hard links", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-release-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = fakeCheckout(dir);
  const built = await buildRelease({ root, version: "2.0.0", outDir: join(dir, "out"), key: releaseKey, stateSchema: 2, node: false, guest: false,
    previous: { min: "1.0.0" }, migrations: ["deployments: schema 2"], extraFiles: { "packages/zos/bin/zosd.ts": "process.exit(3)\n" } });
  assert.equal(readFileSync(join(root, "packages", "zos", "bin", "zosd.ts"), "utf8"), "console.log('zosd')\n", "the checkout is untouched");
  assert.equal(built.manifest.entry.node, undefined);
  assert.equal(built.manifestHash, releaseFileHash(readFileSync(built.manifestPath)));
  assert.ok(!readdirSync(join(dir, "out")).some((f) => f.startsWith(".stage")), "stage removed");

  const r = await installRelease({ manifestUrl: built.manifestPath, expectedHash: built.manifestHash, trustedKeys: [releaseKey.address], versionsDir: join(dir, "versions") });
  assert.equal(r.dir, join(dir, "versions", "2.0.0"));
  assert.equal(readFileSync(join(r.dir, "packages", "zos", "bin", "zosd.ts"), "utf8"), "process.exit(3)\n");
  assert.equal(readFileSync(join(r.dir, "RELEASE"), "utf8"), "2.0.0\n");
  assert.equal(r.manifest.signer, releaseKey.address);
  assert.equal(acceptsPrevious(r.manifest, "1.2.0"), true);
  assert.equal(acceptsPrevious(r.manifest, "0.9.0"), false);
  const again = await installRelease({ manifestUrl: built.manifestPath, expectedHash: built.manifestHash, trustedKeys: [releaseKey.address], versionsDir: join(dir, "versions") });
  assert.equal(again.reused, true);
});

test("refused with a clear message: unknown signing key, a manifest changed after the vote, a tampered block", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-release-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = fakeCheckout(dir);
  const out = join(dir, "out");
  const built = await buildRelease({ root, version: "3.0.0", outDir: out, key: otherKey, stateSchema: 1, node: false, guest: false });
  const versionsDir = join(dir, "versions");
  await assert.rejects(installRelease({ manifestUrl: built.manifestPath, expectedHash: built.manifestHash, trustedKeys: [releaseKey.address], versionsDir }),
    (e: unknown) => e instanceof ReleaseRejectedError && /signed by 0x[0-9a-fA-F]{40}, which is not a pinned release key/.test(e.message));

  const good = await buildRelease({ root, version: "3.0.1", outDir: out, key: releaseKey, stateSchema: 1, node: false, guest: false });
  // the file served is not the one voted on
  const file = readFileSync(good.manifestPath, "utf8");
  writeFileSync(good.manifestPath, file.replace('"stateSchema": 1', '"stateSchema": 7'));
  await assert.rejects(installRelease({ manifestUrl: good.manifestPath, expectedHash: good.manifestHash, trustedKeys: [releaseKey.address], versionsDir }),
    (e: unknown) => e instanceof ReleaseRejectedError && /does not match the hash approved on chain/.test(e.message));
  // ... and even with a matching hash, a modified manifest breaks its signature
  assert.throws(() => openReleaseFile(readFileSync(good.manifestPath), { trustedKeys: [releaseKey.address] }), /signature does not match its manifest/);
  writeFileSync(good.manifestPath, file);

  // flip a byte in every block of the big file: the unpack refuses, nothing is installed
  const blocks = join(out, "blocks");
  for (const b of readdirSync(blocks)) {
    const p = join(blocks, b);
    const data = readFileSync(p);
    if (data.length < 4096) continue;
    data[100] = data[100]! ^ 0xff;
    writeFileSync(p, data);
  }
  await assert.rejects(installRelease({ manifestUrl: good.manifestPath, expectedHash: good.manifestHash, trustedKeys: [releaseKey.address], versionsDir }),
    (e: unknown) => e instanceof ReleaseRejectedError && /a block of its flist was tampered with/.test(e.message) && /nothing of this release was run/.test(e.message));
  assert.deepEqual(readdirSync(versionsDir), [], "no half release, temp dir or download left");
});
