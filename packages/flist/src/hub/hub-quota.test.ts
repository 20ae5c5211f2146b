import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import { encodeBlock } from "../format/block-codec.ts";
import { toHex } from "../format/hash.ts";
import { signHubRequest } from "./hub-auth.ts";
import { openHubQuota } from "./hub-quota.ts";
import { startHub } from "./hub-server.ts";

const alice = twinKeyFromPrivateKey("0x" + "31".repeat(32));
const bob = twinKeyFromPrivateKey("0x" + "32".repeat(32));

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-hub-quota-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** PUTs one new block of ~300 KB of random bytes signed by `key`; the HTTP status and error. */
async function putBlock(url: string, key: TwinKey): Promise<{ status: number; error?: string }> {
  const b = encodeBlock(randomBytes(300_000));
  const p = `/blocks/${toHex(b.id).slice(0, 2)}/${toHex(b.id)}`;
  const r = await fetch(`${url}${p}`, { method: "PUT", body: b.data, headers: signHubRequest(key, "PUT", p) });
  const body = (await r.json()) as { error?: string };
  return { status: r.status, error: body.error };
}

test("hub quota: per-twin usage survives a hub restart; other twins keep theirs", async (t) => {
  const dir = tmp(t);
  const dataDir = join(dir, "hub");
  let hub = await startHub({ dataDir, maxBytesPerTwin: 1_000_000 });
  t.after(() => hub.close());
  for (let i = 0; i < 3; i++) assert.equal((await putBlock(hub.url, alice)).status, 201, `block ${i}`);
  await hub.close();

  // A restarted hub remembers alice's ~900 KB: the next 300 KB is over her quota.
  hub = await startHub({ dataDir, maxBytesPerTwin: 1_000_000 });
  const over = await putBlock(hub.url, alice);
  assert.equal(over.status, 413, "the quota was reset by the restart");
  assert.match(over.error ?? "", /over its upload quota of 1000000 bytes \(9\d{5} used\)/);
  assert.equal((await putBlock(hub.url, bob)).status, 201, "another twin's quota is its own");
  await hub.close();

  // Restarting again changes nothing.
  hub = await startHub({ dataDir, maxBytesPerTwin: 1_000_000 });
  assert.equal((await putBlock(hub.url, alice)).status, 413);
});

test("hub quota store: charge is all-or-nothing, refund gives back, pending charges are settled by recover, usage is durable and case-insensitive", (t) => {
  const path = join(tmp(t), "quota.db");
  let quota = openHubQuota(path, 1000);
  const a = quota.charge("0xAB", 600, "aa");
  assert.ok(a !== undefined);
  quota.settle(a);
  assert.equal(quota.charge("0xab", 500, "bb"), undefined, "over the quota: nothing charged");
  assert.equal(quota.used("0xab"), 600);
  const b = quota.charge("0xAb", 300, "bb")!;
  assert.equal(quota.used("0xAB"), 900);
  quota.refund(b);
  quota.refund(b); // twice: nothing more given back
  assert.equal(quota.used("0xab"), 600, "a refund gives back only its own charge");
  // A "crash" with two charges pending: one block stored, the other not.
  quota.charge("0xab", 100, "cc");
  quota.charge("0xab", 300, "dd");
  assert.equal(quota.used("0xab"), 1000, "exactly the quota fits");
  quota.close();
  quota = openHubQuota(path, 1000);
  t.after(() => quota.close());
  assert.deepEqual(quota.recover((block) => block === "cc"), { kept: ["cc"], refunded: ["dd"] });
  assert.equal(quota.used("0xAB"), 700, "the stored block stays charged, the lost one is given back");
  assert.deepEqual(quota.recover(() => false), { kept: [], refunded: [] }, "settled once");
  assert.equal(quota.charge("0xab", 301, "ee"), undefined);
  assert.equal(quota.used("0xcd"), 0);
});
