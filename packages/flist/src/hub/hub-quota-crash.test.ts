// The hub's quota is crash-consistent: a real hub process (the `zgrid-flist hub` command) is
// SIGKILLed while twins upload blocks in parallel, at a random moment, until a kill lands between
// a charge and its block's write (a pending charge whose block is not in the store). After the
// restart, each twin's usage is exactly the bytes of the blocks the store holds, and no temp
// file of a cut write is left.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DatabaseSync } from "node:sqlite";
import { twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import { encodeBlock } from "../format/block-codec.ts";
import { toHex } from "../format/hash.ts";
import { signHubRequest } from "./hub-auth.ts";
import { openHubQuota } from "./hub-quota.ts";
import { startHub } from "./hub-server.ts";

const FLIST_BIN = fileURLToPath(new URL("../../bin/flist.ts", import.meta.url));
const twins = [twinKeyFromPrivateKey("0x" + "41".repeat(32)), twinKeyFromPrivateKey("0x" + "42".repeat(32))];
/** Kills tried before giving up on hitting the window (each one has a good chance: many writes in flight). */
const MAX_KILLS = 12;

function startHubProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", FLIST_BIN, "hub", "--data", dataDir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /hub listening on (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => reject(new Error(`hub exited (${code}) before listening: ${out}`)));
  });
}

/** Uploads new ~200-500 KB blocks signed by `key` until `stop()` says so (errors: the hub died). */
async function uploader(url: string, key: TwinKey, stop: () => boolean): Promise<number> {
  let ok = 0;
  while (!stop()) {
    const b = encodeBlock(randomBytes(200_000 + Math.floor(Math.random() * 300_000)));
    const p = `/blocks/${toHex(b.id).slice(0, 2)}/${toHex(b.id)}`;
    try {
      const r = await fetch(`${url}${p}`, { method: "PUT", body: b.data, headers: signHubRequest(key, "PUT", p) });
      await r.arrayBuffer();
      if (r.status === 201) ok++;
    } catch {
      return ok;
    }
  }
  return ok;
}

/** Pending charges of the (dead) hub whose block is not in the store: the over-count a crash would leave. */
function cutCharges(dataDir: string, stored: Set<string>): number {
  const db = new DatabaseSync(join(dataDir, "quota.db"), { readOnly: true });
  try {
    return (db.prepare("select block from pending").all() as Array<{ block: string }>).filter((p) => !stored.has(p.block)).length;
  } finally {
    db.close();
  }
}

/** Block id → size of the blocks in the hub's store; and its temp files. */
function storeContents(dataDir: string): { blocks: Map<string, number>; temps: string[] } {
  const root = join(dataDir, "blocks");
  const blocks = new Map<string, number>();
  const temps: string[] = [];
  for (const n of readdirSync(root)) {
    if (n.includes(".tmp-")) temps.push(n);
    else if (/^[0-9a-f]{64}$/.test(n)) blocks.set(n, statSync(join(root, n)).size);
  }
  return { blocks, temps };
}

test("hub quota: a hub SIGKILLed between charging a block and writing it neither over- nor under-counts after restart", { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-hub-crash-"));
  const dataDir = join(dir, "hub");
  let child: ChildProcess | undefined;
  t.after(() => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  let hits = 0;
  let kills = 0;
  while (hits === 0 && kills < MAX_KILLS) {
    const hub = await startHubProcess(dataDir);
    child = hub.child;
    let stopped = false;
    const uploads = twins.flatMap((key) => Array.from({ length: 6 }, () => uploader(hub.url, key, () => stopped)));
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
    const exited = new Promise((r) => hub.child.once("exit", r));
    hub.child.kill("SIGKILL");
    await exited;
    kills++;
    stopped = true;
    const stored = (await Promise.all(uploads)).reduce((a, b) => a + b, 0);
    const before = storeContents(dataDir);
    const cut = cutCharges(dataDir, new Set(before.blocks.keys()));
    t.diagnostic(`kill ${kills}: ${stored} uploads answered 201 in this life, ${cut} charges cut before their write, ${before.temps.length} temp files`);
    if (cut > 0) hits++;

    // The restart (in process) settles the pending charges before it serves.
    const restarted = await startHub({ dataDir });
    await restarted.close();
    const after = storeContents(dataDir);
    assert.deepEqual(after.temps, [], "temp files of cut writes are removed at start");
    const quota = openHubQuota(join(dataDir, "quota.db"), 2 ** 40);
    try {
      const stored = [...after.blocks.values()].reduce((a, b) => a + b, 0);
      const used = twins.reduce((sum, k) => sum + quota.used(k.address), 0);
      assert.equal(used, stored, `after kill ${kills}: usage ${used} vs ${stored} bytes stored`);
      assert.deepEqual(quota.recover(() => true), { kept: [], refunded: [] }, "nothing left pending");
    } finally {
      quota.close();
    }
  }
  assert.ok(hits > 0, `none of ${kills} kills landed between a charge and its write`);
});
