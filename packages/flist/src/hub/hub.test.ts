import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twinKeyFromMnemonic, twinKeyFromPrivateKey } from "@zgrid/types";
import { StoreError } from "../errors/flist-errors.ts";
import { lazyUnmount, mountFlist, type MountHandle } from "../mount/mount-flist.ts";
import { packFlist } from "../pack/pack-flist.ts";
import { signFlist } from "../sign/sign-flist.ts";
import { makeSampleTree } from "../testing/sample-tree.ts";
import { runChild } from "../testing/run-child.ts";
import { verifyFlist } from "../verify-flist.ts";
import { unpackFlist } from "../unpack-flist.ts";
import { signHubRequest } from "./hub-auth.ts";
import { listHubFlists, missingBlocks, pushFlist } from "./hub-client.ts";
import { startHub } from "./hub-server.ts";

const key = twinKeyFromMnemonic("test test test test test test test test test test test junk");
const other = twinKeyFromPrivateKey("0x" + "11".repeat(32));

test("hub round trip: push a signed flist, list it, mount it from http", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-hub-test-"));
  const mounts: MountHandle[] = [];
  const hub = await startHub({ dataDir: join(dir, "hub") });
  t.after(async () => {
    for (const m of mounts) await m.unmount();
    lazyUnmount(join(dir, "mnt"));
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });
  makeSampleTree(join(dir, "src"), { bigFileBytes: 2_000_000 });
  const fl = join(dir, "app.fl");
  await packFlist({ source: join(dir, "src"), output: fl, stores: [`dir://${join(dir, "local")}`] });
  await assert.rejects(pushFlist({ hub: hub.url, flist: fl, key }), StoreError, "unsigned flists are refused");
  await signFlist(fl, key);
  const pushed = await pushFlist({ hub: hub.url, flist: fl, key });
  assert.ok(pushed.uploadedBlocks > 0);
  assert.equal(pushed.owner, key.address);
  // a second push asks which blocks are missing in ONE request and uploads nothing
  const requests: string[] = [];
  const count = (req: { method?: string; url?: string }) => requests.push(`${req.method} ${req.url}`);
  hub.server.on("request", count);
  assert.equal((await pushFlist({ hub: hub.url, flist: fl, key })).uploadedBlocks, 0, "second push uploads nothing");
  hub.server.off("request", count);
  assert.deepEqual(requests.map((r) => r.replace(/\/flists\/.*/, "/flists/…")), ["POST /blocks/missing", "PUT /flists/…"]);
  assert.deepEqual(await missingBlocks(hub.url, [Buffer.alloc(32, 7)]), [Buffer.alloc(32, 7)], "an unknown id comes back as missing");
  assert.equal((await fetch(`${hub.url}/blocks/missing`, { method: "POST", body: Buffer.alloc(33) })).status, 400, "ids are 32 bytes each");
  assert.equal((await fetch(`${hub.url}/blocks/missing`, { method: "POST", body: Buffer.alloc(32 * 20_001) })).status, 413, "at most 20,000 ids a request");

  const listed = await listHubFlists(hub.url, key.address);
  assert.deepEqual(listed.map((e) => [e.name, e.signer]), [["app.fl", key.address]]);
  assert.equal((await listHubFlists(hub.url)).length, 1);

  // Uploads under someone else's address, and blocks that do not match their id, are refused.
  const wrongOwner = await fetch(`${hub.url}/flists/${other.address}/app.fl`, { method: "PUT", body: readFileSync(fl) });
  assert.equal(wrongOwner.status, 403);
  // A signed flist whose blocks are not on the hub is refused (409).
  const other2 = join(dir, "other.fl");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  mkdirSync(join(dir, "src2"));
  writeFileSync(join(dir, "src2/new"), "content the hub has never seen");
  await packFlist({ source: join(dir, "src2"), output: other2, stores: [`dir://${join(dir, "local2")}`] });
  await signFlist(other2, key);
  const missing = await fetch(`${hub.url}/flists/${key.address}/other.fl`, { method: "PUT", body: readFileSync(other2) });
  assert.equal(missing.status, 409);
  const badPath = `/blocks/00/${"00".repeat(32)}`;
  const badBlock = await fetch(`${hub.url}${badPath}`, { method: "PUT", body: "junk", headers: signHubRequest(key, "PUT", badPath) });
  assert.equal(badBlock.status, 400);

  // Verify and mount straight from the hub (routes point at its /blocks).
  const report = await verifyFlist({ flist: pushed.url, trustedSigners: [key.address] });
  assert.equal(report.ok, true);
  await unpackFlist({ flist: pushed.url, target: join(dir, "unpacked") });
  assert.ok(readFileSync(join(dir, "unpacked/bin/big")).equals(readFileSync(join(dir, "src/bin/big"))));
  const m = await mountFlist({ flist: pushed.url, mountpoint: join(dir, "mnt"), cache: { dir: join(dir, "cache"), maxBytes: 2 ** 28 }, trustedSigners: [key.address] });
  mounts.push(m);
  const r = await runChild("cat", [join(dir, "mnt/bin/big")]);
  assert.equal(r.status, 0);
  assert.ok(r.stdout.equals(readFileSync(join(dir, "src/bin/big"))));
  assert.equal((await runChild("readlink", [join(dir, "mnt/bin/rel-link")])).stdout.toString().trim(), "entry.sh");
  const metrics = await m.metrics();
  assert.ok(metrics.blocksFetched >= 4);
  await assert.rejects(mountFlist({ flist: pushed.url, mountpoint: join(dir, "mnt2"), cache: { dir: join(dir, "cache"), maxBytes: 2 ** 28 }, trustedSigners: [other.address] }), /not a trusted signer/);
});
