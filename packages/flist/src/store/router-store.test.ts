import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockNotFoundError, StoreError } from "../errors/flist-errors.ts";
import { encodeBlock } from "../format/block-codec.ts";
import { toHex } from "../format/hash.ts";
import { DirStore } from "./dir-store.ts";
import { openStores, withRetry } from "./router-store.ts";

function block(n: number): ReturnType<typeof encodeBlock> {
  return encodeBlock(Buffer.from(`block number ${n} `.repeat(100)));
}

test("route table: writes go to every matching store, reads fail over to a store that has the block", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-router-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = join(dir, "a"), b = join(dir, "b"), all = join(dir, "all");
  const router = openStores([`00-7f=dir://${a}`, `80-ff=dir://${b}`, `dir://${all}`], { retry: { attempts: 2, baseDelayMs: 1 } });
  const blocks = Array.from({ length: 40 }, (_, i) => block(i));
  for (const x of blocks) await router.set(x.id, x.data);
  for (const x of blocks) {
    const low = x.id[0]! <= 0x7f;
    assert.equal(existsSync(join(low ? a : b, toHex(x.id))), true);
    assert.equal(existsSync(join(low ? b : a, toHex(x.id))), false);
    assert.equal(existsSync(join(all, toHex(x.id))), true);
  }
  // Lose the sharded copies: every read still succeeds from the full store.
  rmSync(a, { recursive: true });
  rmSync(b, { recursive: true });
  for (const x of blocks) assert.deepEqual(Buffer.from(await router.get(x.id)), Buffer.from(x.data));
  rmSync(all, { recursive: true });
  await assert.rejects(router.get(blocks[0]!.id), BlockNotFoundError);
  await assert.rejects(openStores([`00-0f=dir://${a}`]).get(Buffer.alloc(32, 0xff)), StoreError, "no route covers the id");
  assert.throws(() => openStores(["ftp://x"]), StoreError);
});

test("http store: transient server errors are retried with backoff; 404 is not retried", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-http-store-"));
  const store = new DirStore(dir);
  const x = block(1);
  await store.set(x.id, x.data);
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (hits <= 2) {
      res.writeHead(503);
      return void res.end();
    }
    const id = Buffer.from((req.url ?? "").split("/").pop() ?? "", "hex");
    store.get(id).then((data) => { res.writeHead(200); res.end(data); }, () => { res.writeHead(404); res.end(); });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.after(() => { server.close(); rmSync(dir, { recursive: true, force: true }); });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/blocks`;
  const http = openStores([url], { retry: { attempts: 4, baseDelayMs: 5 } });
  assert.deepEqual(Buffer.from(await http.get(x.id)), Buffer.from(x.data));
  assert.equal(hits, 3);
  const before = hits;
  await assert.rejects(http.get(Buffer.alloc(32, 1)), BlockNotFoundError);
  assert.equal(hits, before + 1);
  await assert.rejects(http.set(x.id, x.data), StoreError, "plain http stores are read-only");
  let calls = 0;
  await assert.rejects(withRetry(async () => { calls++; throw new Error("down"); }, { attempts: 3, baseDelayMs: 1 }), /down/);
  assert.equal(calls, 3);
});
