// Bounded downloads against hostile servers: one that drips a byte every 300 ms (deadline), one
// that sends more than the cap (with and without Content-Length), a redirect, a cancelled
// contract (AbortSignal), and a loopback URL without the allow-list. Nothing is left behind.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { egressDownload } from "./egress-fetch.ts";
import { EgressPolicy } from "./egress-policy.ts";

test("deadline, size cap, redirects, abort and the policy bound every download", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "egress-fetch-"));
  const timers: NodeJS.Timeout[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === "/ok") return res.end("flist bytes");
    if (req.url === "/drip") {
      res.writeHead(200);
      timers.push(setInterval(() => res.write("x"), 300));
      return;
    }
    if (req.url === "/big") return res.end(Buffer.alloc(5000));
    if (req.url === "/big-chunked") {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000));
      return res.end();
    }
    res.writeHead(302, { location: "http://169.254.169.254/" }).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  t.after(() => {
    for (const x of timers) clearInterval(x);
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const policy = new EgressPolicy({ allow: [`127.0.0.1:${port}`] });
  const base = `http://127.0.0.1:${port}`;
  const o = { policy, timeoutMs: 1500, maxBytes: 4096 };
  await egressDownload(`${base}/ok`, join(dir, "ok.fl"), o);
  assert.equal(readFileSync(join(dir, "ok.fl"), "utf8"), "flist bytes");
  const started = Date.now();
  await assert.rejects(egressDownload(`${base}/drip`, join(dir, "drip.fl"), o), /took longer than 1\.5 s/);
  assert.ok(Date.now() - started < 5000, "the deadline holds even while bytes keep coming");
  await assert.rejects(egressDownload(`${base}/big`, join(dir, "big.fl"), o), /larger than the limit of 4096 bytes/);
  await assert.rejects(egressDownload(`${base}/big-chunked`, join(dir, "big2.fl"), o), /larger than the limit of 4096 bytes/);
  await assert.rejects(egressDownload(`${base}/redirect`, join(dir, "r.fl"), o), /HTTP 302 \(redirects are not followed\)/);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error("contract 7 cancelled")), 200);
  await assert.rejects(egressDownload(`${base}/drip`, join(dir, "cancel.fl"), { ...o, timeoutMs: 60_000, signal: ac.signal }), /contract 7 cancelled/);
  await assert.rejects(egressDownload(`${base}/ok`, join(dir, "lo.fl"), { ...o, policy: new EgressPolicy() }), /refused to connect to .*loopback/);
  await assert.rejects(egressDownload(`http://[::ffff:127.0.0.1]:${port}/ok`, join(dir, "lo6.fl"), { ...o, policy: new EgressPolicy() }), /loopback/);
  assert.deepEqual(readdirSync(dir), ["ok.fl"], "no partial file is left");
  assert.ok(!existsSync(join(dir, "drip.fl")));
});
