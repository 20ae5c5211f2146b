// Rollback past a state migration, through the upgrader on the real dev chain: release 2.0.0
// migrates the node state (schema 1 -> 2) and dies before it is ready; the upgrader puts the
// pre-switch snapshot back, so release 1.0.0 (which reads schema 1 only) starts again with its rows.
// The zosd of these tiny releases is a labelled stand-in (a real SQLite state, a ready line, no VMs):
// the upgrader's switch and rollback are under test; rollout.e2e.test.ts runs the real zosd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { NODE_RESOURCES, startTestGrid } from "@zgrid/chain/testing";
import { keccak256, twinKeyFromPrivateKey } from "@zgrid/types";
import { buildRelease } from "./release/build-release.ts";
import { stateSchemaOf } from "./runner/state-snapshot.ts";
import { parseUpgraderConfig } from "./upgrader-config.ts";
import type { UpgradeRecord } from "./upgrader-state.ts";
import { startUpgrader, type Upgrader } from "./upgrader.ts";

const releaseKey = twinKeyFromPrivateKey(`0x${"11".repeat(32)}`);

// stand-in zosd (release 1.0.0): state schema 1; refuses a newer state as the real store does
const ZOSD_V1 = `import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(process.env.ZGRID_TEST_DB);
const v = db.prepare("PRAGMA user_version").get().user_version;
if (v > 1) { console.log(JSON.stringify({ ready: false, error: { message: "node state has schema " + v + ", this release reads up to 1" } })); process.exit(4); }
if (v === 0) db.exec("CREATE TABLE deployments (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO deployments VALUES (1, 'vm-1'); PRAGMA user_version = 1");
db.close();
console.log(JSON.stringify({ ready: true, account: "0x0", twinId: Number(process.env.ZGRID_TEST_TWIN), nodeId: Number(process.env.ZGRID_TEST_NODE), peerId: "none", addresses: [] }));
setInterval(() => undefined, 1000);
process.on("SIGTERM", () => process.exit(0));
`;
// release 2.0.0: migrates the state to schema 2, then dies before it is ready
const ZOSD_V2 = `import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(process.env.ZGRID_TEST_DB);
db.exec("ALTER TABLE deployments ADD COLUMN owner TEXT; UPDATE deployments SET owner = 'x'; PRAGMA user_version = 2");
db.close();
process.exit(3);
`;

test("a release that migrates the state and fails its health gate: the snapshot is put back, the previous release starts with its rows", { timeout: 120_000 }, async (t) => {
  const grid = await startTestGrid();
  const dir = mkdtempSync(join(tmpdir(), "zgrid-upg-rollback-"));
  let u: Upgrader | undefined = undefined; // set once started; the cleanup above stops it first
  t.after(async () => {
    await u?.stop(); // first: its zosd, then the chain it reads
    await grid.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  // the node: its identity seed (as zosd writes it), its twin and node on chain
  const dataDir = join(dir, "zos");
  mkdirSync(dataDir, { recursive: true });
  const seed = randomBytes(32);
  writeFileSync(join(dataDir, "identity.seed"), seed, { mode: 0o600 });
  const key = twinKeyFromPrivateKey(keccak256(seed));
  await grid.admin.walletClient!.sendTransaction({ to: key.address, value: 10n ** 20n, chain: null });
  const nodeClient = grid.clientFor(`0x${Buffer.from(key.privateKey).toString("hex")}`);
  const twinId = await nodeClient.createTwin({ peerId: "stand-in", relays: [] });
  const nodeId = await nodeClient.registerNode({ farmId: grid.farmId, resources: NODE_RESOURCES });
  const db = join(dataDir, "zos.db");
  Object.assign(process.env, { ZGRID_TEST_DB: db, ZGRID_TEST_TWIN: String(twinId), ZGRID_TEST_NODE: String(nodeId) });
  t.after(() => { for (const k of ["ZGRID_TEST_DB", "ZGRID_TEST_TWIN", "ZGRID_TEST_NODE"]) delete process.env[k]; });

  const root = join(dir, "checkout");
  mkdirSync(join(root, "packages", "zos", "bin"), { recursive: true });
  mkdirSync(join(root, "node_modules"), { recursive: true });
  writeFileSync(join(root, "package.json"), "{}\n");
  writeFileSync(join(root, "packages", "zos", "bin", "zosd.ts"), ZOSD_V1);
  const zosConfig = join(dir, "zos.json");
  writeFileSync(zosConfig, JSON.stringify({ dataDir, chain: { rpcUrl: grid.chain.rpcUrl, addresses: grid.chain.addresses } }));
  u = await startUpgrader(parseUpgraderConfig({ stateDir: join(dir, "upgrader"), zosConfig, releaseKeys: [releaseKey.address], initial: { version: "1.0.0", dir: root }, pollMs: 200, health: { windowMs: 20_000, settleMs: 0 } }));
  assert.equal(stateSchemaOf(db), 1);

  const built = await buildRelease({ root, version: "2.0.0", outDir: join(dir, "out"), key: releaseKey, stateSchema: 2, node: false, guest: false,
    migrations: ["deployments: owner column (schema 2)"], extraFiles: { "packages/zos/bin/zosd.ts": ZOSD_V2 } });
  const outcome = new Promise<UpgradeRecord>((resolve, reject) => {
    u!.once("rolled-back", resolve);
    u!.once("upgraded", () => reject(new Error("2.0.0 must not pass its health gate")));
    u!.once("refused", (r: UpgradeRecord) => reject(new Error(`refused: ${r.reason}`)));
  });
  await grid.approveRelease({ version: "2.0.0", manifestHash: built.manifestHash, manifestUrl: built.manifestPath });
  const r = await outcome;
  assert.match(r.reason ?? "", /exited \(3\) before it was ready/);
  assert.equal(r.stateRestored, true, "the failed release had migrated the state");
  assert.equal(u.current(), "1.0.0");
  assert.equal(stateSchemaOf(db), 1, "schema 1 again");
  const back = new DatabaseSync(db, { readOnly: true });
  assert.deepEqual(back.prepare("SELECT * FROM deployments").all().map((row) => ({ ...row })), [{ id: 1, body: "vm-1" }]);
  back.close();
  const pid = u.zosdPid()!;
  assert.doesNotThrow(() => process.kill(pid, 0), "release 1.0.0 runs again");
  const v = await grid.admin.getNodeVersion(nodeId);
  assert.deepEqual({ running: v.running, failed: v.failed }, { running: "1.0.0", failed: "2.0.0" });
});
