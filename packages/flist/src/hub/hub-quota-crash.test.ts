// The hub's quota is crash-consistent: a real hub process (the `zgrid-flist hub` command) is
// SIGKILLed while twins upload blocks in parallel. First exactly where it matters, held there by
// the hub's crash-test failpoint (between a charge and its block's write; between the write and
// the settle), then at random moments. After each restart, each twin's usage is exactly the bytes
// of the blocks the store holds, nothing is left pending, and no temp file of a cut write is left.
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
/** Random-moment kills after the aimed ones. */
const RANDOM_KILLS = 3;
/** Uploads in flight per twin. */
const UPLOADERS = 6;

function startHubProcess(dataDir: string, failpoint?: string): Promise<{ child: ChildProcess; url: string }> {
  const env = { ...process.env, ...(failpoint ? { ZGRID_HUB_FAILPOINT: failpoint } : {}) };
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", FLIST_BIN, "hub", "--data", dataDir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"], env });
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

/** Block ids of the hub's pending charges (charged, not yet settled). */
function pendingCharges(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, "quota.db"), { readOnly: true });
  try {
    return (db.prepare("select block from pending").all() as Array<{ block: string }>).map((p) => p.block);
  } finally {
    db.close();
  }
}

/** Waits until the hub holds `n` pending charges (the failpoint holds every upload). */
async function waitPending(dataDir: string, n: number): Promise<void> {
  const end = Date.now() + 60_000;
  let seen = 0;
  while (Date.now() < end) {
    try {
      seen = pendingCharges(dataDir).length;
      if (seen >= n) return;
    } catch {
      // the hub is writing: read again
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the held hub has ${seen} pending charges after 60 s, expected ${n}`);
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

/** SIGKILLs the hub, lets its uploaders see it, restarts it in process and checks the accounts. */
async function killAndCheck(t: { diagnostic(m: string): void }, dataDir: string, hub: { child: ChildProcess }, uploads: Array<Promise<number>>, what: string, stop: () => void): Promise<{ cut: number; pending: number }> {
  const exited = new Promise((r) => hub.child.once("exit", r));
  hub.child.kill("SIGKILL");
  await exited;
  stop();
  const answered = (await Promise.all(uploads)).reduce((a, b) => a + b, 0);
  const before = storeContents(dataDir);
  const pending = pendingCharges(dataDir);
  const cut = pending.filter((b) => !before.blocks.has(b)).length;
  t.diagnostic(`${what}: ${answered} uploads answered 201 in this life; ${pending.length} charges pending, ${cut} of them cut before their write; ${before.temps.length} temp files`);

  // The restart (in process) settles the pending charges before it serves.
  const restarted = await startHub({ dataDir });
  await restarted.close();
  const after = storeContents(dataDir);
  assert.deepEqual(after.temps, [], `${what}: temp files of cut writes are removed at start`);
  const quota = openHubQuota(join(dataDir, "quota.db"), 2 ** 40);
  try {
    const stored = [...after.blocks.values()].reduce((a, b) => a + b, 0);
    const used = twins.reduce((sum, k) => sum + quota.used(k.address), 0);
    assert.equal(used, stored, `${what}: usage ${used} vs ${stored} bytes stored`);
    assert.deepEqual(quota.recover(() => true), { kept: [], refunded: [] }, `${what}: nothing left pending`);
  } finally {
    quota.close();
  }
  return { cut, pending: pending.length };
}

test("hub quota: a hub SIGKILLed between charging a block and writing it (or settling it) neither over- nor under-counts after restart", { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-hub-crash-"));
  const dataDir = join(dir, "hub");
  let child: ChildProcess | undefined;
  t.after(() => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const life = async (failpoint: string | undefined, what: string, killWhen: () => Promise<void>) => {
    const hub = await startHubProcess(dataDir, failpoint);
    child = hub.child;
    let stopped = false;
    const uploads = twins.flatMap((key) => Array.from({ length: UPLOADERS }, () => uploader(hub.url, key, () => stopped)));
    await killWhen();
    return killAndCheck(t, dataDir, hub, uploads, what, () => (stopped = true));
  };
  const inFlight = twins.length * UPLOADERS;

  // a first life that stores blocks normally, so the later checks have stored bytes to keep
  await life(undefined, "random kill 0", () => new Promise((r) => setTimeout(r, 800)));
  // held after the charge: every in-flight upload is charged and none written; all are given back
  const afterCharge = await life("after-charge", "held after the charge", () => waitPending(dataDir, inFlight));
  assert.equal(afterCharge.cut, inFlight, "every held upload was charged and not written when the hub died");
  // held after the write: every in-flight block is written and not settled; all are kept
  const afterWrite = await life("after-write", "held after the write", () => waitPending(dataDir, inFlight));
  assert.equal(afterWrite.pending, inFlight, "every held upload was charged when the hub died");
  assert.equal(afterWrite.cut, 0, "every held upload was written when the hub died");
  // and at random moments
  for (let k = 1; k <= RANDOM_KILLS; k++) await life(undefined, `random kill ${k}`, () => new Promise((r) => setTimeout(r, 300 + Math.random() * 700)));
});
