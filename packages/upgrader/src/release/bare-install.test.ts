// A bare node (no `initial`, nothing installed, zosd never ran) installs the release approved on
// the real dev chain before anything runs. The "zosd" of these tiny releases is a labelled stand-in
// (prints a ready line, records where it runs): the bootstrap order is under test here; the e2e
// (rollout.e2e.test.ts) runs the real zosd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestGrid, type TestGrid } from "@zgrid/chain/testing";
import { twinKeyFromPrivateKey } from "@zgrid/types";
import { ReleaseRejectedError } from "../errors.ts";
import { parseUpgraderConfig, readZosFacts } from "../upgrader-config.ts";
import { startUpgrader, type Upgrader } from "../upgrader.ts";
import { buildRelease } from "./build-release.ts";
import { installApprovedRelease } from "./bare-install.ts";

const releaseKey = twinKeyFromPrivateKey(`0x${"11".repeat(32)}`);
const otherKey = twinKeyFromPrivateKey(`0x${"22".repeat(32)}`);

// stand-in zosd: records the directory it runs from, prints a ready line, runs until SIGTERM
const FAKE_ZOSD = `import { writeFileSync } from "node:fs";
writeFileSync(process.env.ZGRID_TEST_MARKER, JSON.stringify({ cwd: process.cwd(), version: process.env.ZGRID_RELEASE_VERSION }));
console.log(JSON.stringify({ ready: true, account: "0x0", twinId: 7, nodeId: 9, peerId: "none", addresses: [] }));
setInterval(() => undefined, 1000);
process.on("SIGTERM", () => process.exit(0));
`;

function checkout(dir: string): string {
  const root = join(dir, "checkout");
  mkdirSync(join(root, "packages", "zos", "bin"), { recursive: true });
  mkdirSync(join(root, "node_modules", "dep"), { recursive: true });
  writeFileSync(join(root, "package.json"), "{}\n");
  writeFileSync(join(root, "packages", "zos", "bin", "zosd.ts"), FAKE_ZOSD);
  writeFileSync(join(root, "node_modules", "dep", "index.js"), Buffer.alloc(300_000, 2));
  return root;
}

function setup(t: { after(f: () => Promise<void> | void): void }, grid: TestGrid) {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-bare-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const zosConfig = join(dir, "zos.json");
  writeFileSync(zosConfig, JSON.stringify({ dataDir: join(dir, "zos"), chain: { rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses } }));
  return { dir, zosConfig, root: checkout(dir), stateDir: join(dir, "upgrader") };
}

test("a bare node waits for an approved release, installs it verified and runs zosd from it; a refused one stops it with the reason", { timeout: 120_000 }, async (t) => {
  const grid = await startTestGrid();
  let u: Upgrader | undefined = undefined; // set once started; the cleanup above stops it first
  t.after(async () => {
    await u?.stop(); // first: its zosd, then the chain it reads
    await grid.stop();
  });
  const s = setup(t, grid);
  const zos = readZosFacts(s.zosConfig);

  // nothing approved yet: it waits (bounded here) and says why
  await assert.rejects(installApprovedRelease({ zos, versionsDir: join(s.dir, "v0"), releaseKeys: [releaseKey.address], pollMs: 200, waitMs: 600 }),
    (e: unknown) => e instanceof ReleaseRejectedError && /no release is approved on chain yet/.test(e.message));

  // the upgrader with no `initial` starts waiting; governance approves 2.0.0; it installs and runs it
  const marker = join(s.dir, "marker.json");
  process.env.ZGRID_TEST_MARKER = marker;
  t.after(() => void delete process.env.ZGRID_TEST_MARKER);
  const config = parseUpgraderConfig({ stateDir: s.stateDir, zosConfig: s.zosConfig, releaseKeys: [releaseKey.address], pollMs: 200 });
  const starting = startUpgrader(config);
  const built = await buildRelease({ root: s.root, version: "2.0.0", outDir: join(s.dir, "out"), key: releaseKey, stateSchema: 1, node: false, guest: false });
  assert.equal(existsSync(marker), false, "nothing ran before a release was approved");
  await grid.approveRelease({ version: "2.0.0", manifestHash: built.manifestHash, manifestUrl: built.manifestPath });
  u = await starting;
  assert.equal(u.current(), "2.0.0");
  const ran = JSON.parse(readFileSync(marker, "utf8")) as { cwd: string; version: string };
  assert.deepEqual(ran, { cwd: join(s.stateDir, "versions", "2.0.0"), version: "2.0.0" }, "zosd runs from the installed release");
  assert.equal(readFileSync(join(s.stateDir, "versions", "2.0.0", "RELEASE"), "utf8"), "2.0.0\n");
  assert.equal((JSON.parse(readFileSync(join(s.stateDir, "state.json"), "utf8")) as { current: string }).current, "2.0.0");
  await u.stop();

  // another bare node, and 3.0.0 approved but signed by a key the node does not pin: refused, nothing runs
  const s2 = setup(t, grid);
  const bad = await buildRelease({ root: s2.root, version: "3.0.0", outDir: join(s2.dir, "out"), key: otherKey, stateSchema: 1, node: false, guest: false });
  await grid.approveRelease({ version: "3.0.0", manifestHash: bad.manifestHash, manifestUrl: bad.manifestPath });
  rmSync(marker, { force: true });
  await assert.rejects(startUpgrader(parseUpgraderConfig({ stateDir: s2.stateDir, zosConfig: s2.zosConfig, releaseKeys: [releaseKey.address], pollMs: 200 })),
    (e: unknown) => e instanceof ReleaseRejectedError && /bare node: the approved release 3\.0\.0 is refused, and there is nothing else to run: .*not a pinned release key/.test(e.message));
  assert.equal(existsSync(marker), false, "no zosd ran");
  assert.deepEqual(readdirSync(join(s2.stateDir, "versions")), [], "nothing installed");
});
