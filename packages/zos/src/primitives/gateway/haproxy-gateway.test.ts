// HaproxyGateway with a real HAProxy: Host-header routing to HTTP backends, a 404 for unknown
// hosts, TLS passthrough chosen by SNI (the client sees the backend's own certificate), reloads
// on change, and HAProxy stopped once no route is left.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect, createServer as createTlsServer } from "node:tls";
import { HaproxyGateway } from "./haproxy-gateway.ts";
import { freePort } from "@zgrid/types/free-port";

const listen = (s: Server | ReturnType<typeof createTlsServer>) => new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, headers: { host }, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject).end();
  });
}

test("routes by Host, passes TLS through by SNI, reloads, stops when empty", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgw-"));
  const gw = new HaproxyGateway({ dir, httpPort: await freePort(), httpsPort: await freePort() });
  const servers: Array<{ close(): unknown }> = [];
  t.after(async () => {
    await gw.stopProxy();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const backend = async (text: string) => {
    const s = createServer((req, res) => res.end(`${text} host=${req.headers.host} xff=${req.headers["x-forwarded-for"] ?? ""}`));
    servers.push(s);
    return listen(s);
  };
  const one = await backend("one");
  const two = await backend("two");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=secure.test", "-days", "1",
    "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem")], { stdio: "ignore" });
  const tls = createTlsServer({ key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")) }, (s) => s.end("tls-backend"));
  servers.push(tls);
  const tlsPort = await listen(tls);

  await gw.set("a", { fqdn: "One.test", backends: [`http://127.0.0.1:${one}`], tlsPassthrough: false });
  const port = Number(/bind :(\d+)/.exec(gw.config())![1]);
  assert.deepEqual(await get(port, "one.test"), { status: 200, body: "one host=one.test xff=127.0.0.1" });
  assert.equal((await get(port, "two.test")).status, 404);
  const pid = readFileSync(join(dir, "haproxy.pid"), "utf8").trim();
  await gw.set("b", { fqdn: "two.test", backends: [`http://127.0.0.1:${two}`], tlsPassthrough: false });
  assert.match((await get(port, "two.test:8080")).body, /^two /);
  assert.equal(gw.owner("two.test"), "b");

  await gw.set("c", { fqdn: "secure.test", backends: [`127.0.0.1:${tlsPort}`], tlsPassthrough: true });
  const tlsFront = Number(/frontend tls\n {2}bind :(\d+)/.exec(gw.config())![1]);
  const { text, cn } = await new Promise<{ text: string; cn: string }>((resolve, reject) => {
    const c = connect({ host: "127.0.0.1", port: tlsFront, servername: "secure.test", rejectUnauthorized: false }, () => {
      const cn = String(c.getPeerCertificate().subject.CN);
      let text = "";
      c.on("data", (d: Buffer) => (text += d.toString()));
      c.on("end", () => resolve({ text, cn }));
    });
    c.on("error", reject);
  });
  assert.deepEqual({ text, cn }, { text: "tls-backend", cn: "secure.test" });
  assert.notEqual(readFileSync(join(dir, "haproxy.pid"), "utf8").trim(), pid, "reloaded into a new process");

  for (const id of ["a", "b", "c"]) await gw.remove(id);
  assert.ok(!existsSync(join(dir, "haproxy.pid")));
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(get(port, "one.test"), /ECONNREFUSED/);
});
