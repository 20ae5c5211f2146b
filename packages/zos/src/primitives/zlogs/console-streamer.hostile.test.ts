// zlogs outputs that attack: a ws:// port that refuses, a plain HTTP server (not WebSocket), a TCP
// server that accepts and hangs up, one that answers garbage, and outputs on the node's loopback
// without an allow-list. The process must keep running (no "Maximum call stack size exceeded"),
// retries must back off (bounded attempts), and a refused address must never see a connection.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { ConsoleStreamer } from "./console-streamer.ts";

async function listen(s: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

function consoleFile(t: { after(f: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "zlogs-hostile-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "console.log");
  writeFileSync(file, "");
  return file;
}

test("ws:// outputs that refuse, are not WebSocket, hang up or send garbage never crash and back off", async (t) => {
  const file = consoleFile(t);
  let hits = 0;
  const http = createHttpServer((_req, res) => { hits++; res.end("not a websocket\n"); });
  const hangup = createServer((s) => { hits++; s.destroy(); });
  const garbage = createServer((s) => { hits++; s.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u0000\u00ff\u00ff garbage"); });
  const ports = { refused: await closedPort(), http: await listen(http), hangup: await listen(hangup), garbage: await listen(garbage) };
  t.after(() => { http.close(); hangup.close(); garbage.close(); });
  const streamers = Object.entries(ports).map(([name, port]) => ({
    name,
    s: new ConsoleStreamer(file, `ws://127.0.0.1:${port}/logs`, { policy: new EgressPolicy({ allow: [`127.0.0.1:${port}`] }), retryMinMs: 100, retryMaxMs: 800 }),
  }));
  t.after(() => Promise.all(streamers.map((x) => x.s.stop())));
  const crashes: unknown[] = [];
  const onErr = (e: unknown) => crashes.push(e);
  process.on("uncaughtException", onErr);
  t.after(() => process.off("uncaughtException", onErr));
  for (const x of streamers) x.s.start();
  const end = Date.now() + 4000;
  while (Date.now() < end) {
    appendFileSync(file, "a console line\n");
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(crashes, [], "no error escaped the streamers");
  for (const { name, s } of streamers) {
    // 100, 200, 400, 800, 800 … ms: at most ~9 attempts in 4 s, at least 2
    assert.ok(s.attempts >= 2 && s.attempts <= 10, `${name}: ${s.attempts} attempts`);
    assert.equal(s.retryDelayMs, 800, `${name}: the back-off reached its cap`);
  }
  assert.ok(hits > 0, "the hostile servers were reached (through the allow-list)");
});

test("outputs on the node's loopback, in any encoding, are refused before connecting", async (t) => {
  const file = consoleFile(t);
  let connections = 0;
  const victim = createServer((s) => { connections++; s.destroy(); });
  const port = await listen(victim);
  t.after(() => victim.close());
  const outputs = [`ws://127.0.0.1:${port}/`, `redis://2130706433:${port}/pwned`, `redis://0x7f.1:${port}/x`, `ws://[::ffff:127.0.0.1]:${port}/`, `ws://localhost:${port}/`, `redis://[::1]:${port}/x`];
  const streamers = outputs.map((o) => new ConsoleStreamer(file, o, { retryMinMs: 100, retryMaxMs: 200 }));
  t.after(() => Promise.all(streamers.map((s) => s.stop())));
  for (const s of streamers) s.start();
  for (let i = 0; i < 10; i++) {
    appendFileSync(file, "SET pwned-by-zlogs 1\n");
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(connections, 0, "nothing connected to the loopback service");
  for (const [i, s] of streamers.entries()) assert.match(s.lastError ?? "", /refused to connect to .*loopback/, outputs[i]);
});
