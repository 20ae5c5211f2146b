import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistFormatError, StoreError } from "../errors/flist-errors.ts";
import { fetchFlistFile } from "../format/local-flist.ts";
import { fetchBytes, fetchToFile } from "./bounded-fetch.ts";
import { HttpStore } from "./http-store.ts";

async function serve(t: { after(fn: () => Promise<void>): void }, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function reason(e: unknown): unknown {
  return e instanceof StoreError ? e.details.reason : e instanceof FlistFormatError ? e.details.reason : undefined;
}

test("a server sending 1 byte at a time forever fails at the body deadline; one that never answers at the headers deadline", async (t) => {
  const timers: NodeJS.Timeout[] = [];
  t.after(() => { for (const x of timers) clearInterval(x); });
  const url = await serve(t, (req, res) => {
    if (req.url === "/silent") return; // never answers
    res.writeHead(200, { "content-type": "application/octet-stream" });
    timers.push(setInterval(() => res.write("x"), 200));
  });
  let started = performance.now();
  await assert.rejects(fetchBytes(`${url}/drip`, { bodyTimeoutMs: 1500, idleTimeoutMs: 1000 }), (e: unknown) => reason(e) === "timeout" && /body not complete within 1500 ms/.test((e as Error).message));
  const drip = performance.now() - started;
  assert.ok(drip < 10_000, `gave up after ${drip} ms`);
  started = performance.now();
  await assert.rejects(fetchBytes(`${url}/silent`, { headersTimeoutMs: 500 }), (e: unknown) => reason(e) === "timeout" && /no response headers within 500 ms/.test((e as Error).message));
  assert.ok(performance.now() - started < 10_000);
});

test("a 1.5 GiB flist is refused from its Content-Length without reading it, a chunked flood at the cap; nothing stays in the cache dir", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-fetch-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let sent = 0;
  const url = await serve(t, (req, res) => {
    if (req.url === "/declared.fl") {
      res.writeHead(200, { "content-length": String(1.5 * 2 ** 30) });
      const chunk = Buffer.alloc(1 << 20);
      const pump = (): void => { while (sent < 1.5 * 2 ** 30 && res.write(chunk)) sent += chunk.length; };
      res.on("drain", pump);
      pump();
      return;
    }
    res.writeHead(200); // chunked, no length
    const chunk = Buffer.alloc(1 << 20, 1);
    const pump = (): void => { while (!res.destroyed && res.write(chunk)) { /* flood */ } };
    res.on("drain", pump);
    pump();
  });
  const rssBefore = process.memoryUsage().rss;
  await assert.rejects(fetchFlistFile(`${url}/declared.fl`, dir), (e: unknown) => e instanceof FlistFormatError && reason(e) === "too-large" && /1610612736 bytes is larger than the limit of 536870912/.test(e.message));
  assert.ok(sent < 256 * 2 ** 20, `refused before the body was read (server wrote ${sent} bytes into socket buffers)`);
  await assert.rejects(fetchFlistFile(`${url}/flood.fl`, dir, { maxBytes: 8 * 2 ** 20 }), (e: unknown) => reason(e) === "too-large");
  await assert.rejects(fetchToFile(`${url}/flood`, join(dir, "x"), { maxBytes: 4 * 2 ** 20 }), StoreError);
  assert.deepEqual(readdirSync(join(dir, "flists")), [], "no partial file left in the cache dir");
  assert.deepEqual(readdirSync(dir).sort(), ["flists"]);
  assert.ok(process.memoryUsage().rss - rssBefore < 300 * 2 ** 20, "the body was never buffered");
});

test("AbortSignal cancels an in-flight fetch; checkAddress refuses addresses before connecting (IP literal and names)", async (t) => {
  let hits = 0;
  const url = await serve(t, (_req, res) => {
    hits++;
    res.writeHead(200);
    res.write("partial");
  });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(fetchBytes(url, { signal: ac.signal }), (e: unknown) => reason(e) === "aborted");
  const hitsBefore = hits;
  const port = new URL(url).port;
  const refuseLoopback = (ip: string): void => { if (ip.startsWith("127.") || ip === "::1") throw new Error(`address ${ip} is refused by policy (loopback)`); };
  await assert.rejects(fetchBytes(url, { checkAddress: refuseLoopback }), (e: unknown) => reason(e) === "refused-address" && /127\.0\.0\.1 is refused by policy/.test((e as Error).message));
  await assert.rejects(fetchBytes(`http://localhost:${port}/`, { checkAddress: refuseLoopback }), (e: unknown) => reason(e) === "refused-address");
  assert.equal(hits, hitsBefore, "no connection was made to a refused address");
  const seen: string[] = [];
  await assert.rejects(fetchBytes(`http://localhost:${port}/`, {
    bodyTimeoutMs: 300,
    lookup: ((_h: string, o: { all?: boolean }, cb: (e: Error | null, a: unknown, f?: number) => void) => (o.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4))) as never,
    checkAddress: (ip) => void seen.push(ip),
  }), (e: unknown) => reason(e) === "timeout");
  assert.deepEqual(seen, ["127.0.0.1"], "a custom lookup's answer goes through checkAddress");
});

test("http store: blocks are capped and refused addresses are never fetched", async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { "content-length": String(100 * 2 ** 20) });
    res.end();
  });
  const store = new HttpStore(`${url}/blocks`, { maxBytes: 2 ** 20 });
  await assert.rejects(store.get(Buffer.alloc(32, 1)), (e: unknown) => reason(e) === "too-large");
  const guarded = new HttpStore(`${url}/blocks`, { checkAddress: () => { throw new Error("not allowed by policy"); } });
  await assert.rejects(guarded.get(Buffer.alloc(32, 1)), (e: unknown) => reason(e) === "refused-address");
});

// CI stop 30: a body refused while a file write was in flight surfaced that write's late
// ERR_STREAM_DESTROYED as an unhandled rejection. Many refusals at varied sizes hit the window.
test("refusing a body mid-write leaves no unhandled error behind (300 refusals at varied caps)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-fetch-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = await serve(t, (_req, res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(1 << 20, 1);
    const pump = (): void => { while (!res.destroyed && res.write(chunk)) { /* flood */ } };
    res.on("drain", pump);
    pump();
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  process.on("unhandledRejection", onUnhandled);
  t.after(() => { process.off("unhandledRejection", onUnhandled); });
  for (let i = 0; i < 300; i++) await assert.rejects(fetchToFile(`${url}/flood`, join(dir, "x"), { maxBytes: (1 << 20) + (i % 7) * 65536 }), StoreError);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(unhandled, []);
  assert.deepEqual(readdirSync(dir), [], "no partial file left");
});
