import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { test } from "node:test";
import { ChainError } from "../errors/chain-error.ts";
import { jsonRpcCall, nativeBalance } from "./json-rpc.ts";

async function rpcServer(t: { after(fn: () => void): void }, answer: (method: string, req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const srv = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => answer((JSON.parse(body) as { method: string }).method, req, res));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  t.after(() => srv.close());
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
}

test("nativeBalance reads eth_getBalance; jsonRpcCall returns any method's result", async (t) => {
  const url = await rpcServer(t, (method, _req, res) => res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: method === "eth_getBalance" ? "0x56bc75e2d63100000" : "0x1a" })));
  assert.equal(await nativeBalance({ rpcUrl: url, account: `0x${"11".repeat(20)}` }), 10n ** 20n);
  assert.equal(await jsonRpcCall({ rpcUrl: url, method: "eth_blockNumber" }), "0x1a");
});

test("every failure is a ChainError naming the method: no answer, too big, RPC error, not a balance, deadline", async (t) => {
  const mode = { v: "big" };
  const url = await rpcServer(t, (_m, _req, res) => {
    if (mode.v === "big") res.end("x".repeat(10_000));
    else if (mode.v === "error") res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32000, message: "header not found" } }));
    else if (mode.v === "junk") res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: "lots" }));
    else if (mode.v === "http") { res.statusCode = 502; res.end("{}"); }
    else if (mode.v === "endless") {
      // an answer that never ends: the client stops reading at its bound instead of buffering it
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => { while (res.write(chunk)); };
      res.on("drain", pump);
      res.on("close", () => res.off("drain", pump));
      pump();
    }
    // "hang": never answers
  });
  const account = `0x${"22".repeat(20)}`;
  const fails = async (re: RegExp, o: { maxBytes?: number; timeoutMs?: number } = {}) =>
    assert.rejects(nativeBalance({ rpcUrl: url, account, ...o }), (e: unknown) => e instanceof ChainError && re.test(e.message));
  await fails(/eth_getBalance: the chain at .* did not answer: an answer of more than 4096 bytes/, { maxBytes: 4096 });
  mode.v = "error";
  await fails(/eth_getBalance failed: header not found/);
  mode.v = "junk";
  await fails(/eth_getBalance: the chain at .* answered no balance/);
  mode.v = "http";
  await fails(/did not answer: HTTP 502/);
  mode.v = "endless";
  await fails(/did not answer: an answer of more than 1048576 bytes/, { maxBytes: 1 << 20 });
  mode.v = "hang";
  await fails(/did not answer: no answer within 200 ms/, { timeoutMs: 200 });
  await assert.rejects(jsonRpcCall({ rpcUrl: "http://127.0.0.1:9/", method: "eth_chainId", timeoutMs: 2_000 }), /eth_chainId: the chain at http:\/\/127\.0\.0\.1:9\/ did not answer/);
});
