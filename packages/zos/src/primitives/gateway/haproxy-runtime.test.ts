// A gateway's backends change through HAProxy's runtime API with a real HAProxy: a keep-alive
// client polling all along keeps its one connection and sees no failed request while the backends
// are swapped (a heal, a rolling update), HAProxy is never reloaded for it, and the config file
// always says what runs (a HAProxy started from it serves the same). Crash-safe: a change cut
// between the files and the runtime (a daemon SIGKILLed mid-change) converges on the next set of
// the same route (the engine's adopt after a restart), still without a reload; routes recorded by
// an earlier version (no slots) are taken over. Adding a gateway (a layout change) reloads.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request, type Server } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HaproxyGateway } from "./haproxy-gateway.ts";
import { runningServers, runtimeCommand } from "./haproxy-runtime.ts";
import { freeLocalPort, listenLocal } from "../../testing/local-ports.ts";

const listen = listenLocal;
const freePort = freeLocalPort;

test("backends change with no reload and no failed request on a kept-alive connection; the file matches; a cut change converges", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgw-rt-"));
  const servers: Server[] = [];
  let gw = new HaproxyGateway({ dir, httpPort: await freePort(), httpsPort: await freePort() });
  t.after(async () => {
    await gw.stopProxy();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const backend = async (name: string) => {
    const s = createServer((_req, res) => res.end(name));
    servers.push(s);
    return `http://127.0.0.1:${await listen(s)}`;
  };
  const [b1, b2, b3, b4] = [await backend("b1"), await backend("b2"), await backend("b3"), await backend("b4")];
  const route = (backends: string[]) => ({ fqdn: "shop.test", backends, tlsPassthrough: false });
  const pid = () => readFileSync(join(dir, "haproxy.pid"), "utf8").trim();

  await gw.set("a", route([b1!, b2!]));
  const port = Number(/bind :(\d+)/.exec(gw.config())![1]);
  const firstPid = pid();

  // one kept-alive connection polling every 10 ms all along
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<Socket>();
  const failures: string[] = [];
  let seen: string[] = [];
  let polling = true;
  const get = () => new Promise<void>((resolve) => {
    const req = request({ host: "127.0.0.1", port, agent, headers: { host: "shop.test" }, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => {
        if (res.statusCode === 200) seen.push(body);
        else failures.push(`${res.statusCode} ${body}`);
        resolve();
      });
    });
    req.on("socket", (s: Socket) => sockets.add(s));
    req.on("error", (e) => {
      failures.push(e.message);
      resolve();
    });
    req.end();
  });
  const poller = (async () => {
    while (polling) {
      await get();
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  t.after(() => {
    polling = false;
    agent.destroy();
  });
  /**
   * The backends answering after a change (a few rounds of requests), polled until they are
   * `expect` or 8 s passed: a server enabled through the runtime takes traffic only once its
   * health checks pass (rise 2, inter 1 s).
   */
  const serving = async (expect: string[]) => {
    const end = Date.now() + 8_000;
    let got: string[] = [];
    do {
      seen = [];
      await new Promise((r) => setTimeout(r, 400));
      got = [...new Set(seen)].sort();
    } while (JSON.stringify(got) !== JSON.stringify(expect) && Date.now() < end);
    return got;
  };

  assert.deepEqual(await serving(["b1", "b2"]), ["b1", "b2"]);
  const steps: Array<[string[], string[]]> = [
    [[b1!, b3!], ["b1", "b3"]], // a heal: b2's node died, b3 replaces it
    [[b4!, b3!], ["b3", "b4"]], // a rolling update, one replica at a time
    [[b4!, b2!], ["b2", "b4"]],
    [[b1!, b2!, b3!, b4!], ["b1", "b2", "b3", "b4"]], // scaled up to the 4 slots
    [[b3!], ["b3"]],
  ];
  for (const [backends, expect] of steps) {
    await gw.set("a", route(backends));
    assert.deepEqual(await serving(expect), expect, `serving ${backends.join(",")}`);
  }
  // every replica replaced at once by one not listening yet (a VM still booting): the old one keeps
  // serving until the new one passes its checks; enabled with `state ready` alone it took traffic
  // at once, and with nothing else left every request failed until it listened
  const late = createServer((_req, res) => res.end("b5"));
  servers.push(late);
  const latePort = await freePort();
  setTimeout(() => late.listen(latePort, "127.0.0.1"), 1_500);
  const before = failures.length;
  await gw.set("a", route([`http://127.0.0.1:${latePort}`]));
  assert.deepEqual(await serving(["b5"]), ["b5"], "the late replica serves once up");
  assert.deepEqual(failures.slice(before), [], "no request failed while the new replica was not up");
  await gw.set("a", route([b3!]));
  assert.deepEqual(await serving(["b3"]), ["b3"]);
  assert.equal(pid(), firstPid, "never reloaded");
  assert.equal(gw.stats().reloads, 1);
  assert.ok(gw.stats().runtimeChanges >= 10, `runtime changes: ${gw.stats().runtimeChanges}`);
  assert.deepEqual(failures, [], "no failed request");
  assert.equal(sockets.size, 1, "the client's kept-alive connection was never closed");

  // the file says what runs: b3 enabled, the rest disabled placeholders
  const cfg = readFileSync(join(dir, "haproxy.cfg"), "utf8");
  assert.equal([...cfg.matchAll(/server s\d+ 127\.0\.0\.1:\d+ check/g)].length, 1);
  assert.ok(cfg.includes(`${b3!.slice(7)} check`));

  // a change cut between the files and the runtime: the files say b2,b3, the running HAProxy still b3 alone
  const socket = join(dir, "haproxy.sock");
  const recorded = JSON.parse(readFileSync(join(dir, "routes.json"), "utf8")) as Array<[string, { backends: string[]; slots: Array<{ backend: string | null; ssl: boolean }> }]>;
  const free = recorded[0]![1].slots.findIndex((s) => s.backend === null);
  recorded[0]![1].backends.push(b2!);
  recorded[0]![1].slots[free] = { backend: b2!, ssl: false };
  writeFileSync(join(dir, "routes.json"), JSON.stringify(recorded));
  // …and a stray server left enabled by the cut change
  const stray = recorded[0]![1].slots.findIndex((s, i) => s.backend === null && i !== free); // another free slot
  await runtimeCommand(socket, `set server h_a/s${stray} addr 127.0.0.1 port ${new URL(b4!).port}; set server h_a/s${stray} state ready`);
  assert.deepEqual(await serving(["b3", "b4"]), ["b3", "b4"]);
  gw = new HaproxyGateway({ dir, httpPort: port, httpsPort: 1 }); // a restarted daemon (no TLS route: the HTTPS port is not used)
  await gw.set("a", route([b3!, b2!])); // adopt: the same route again
  assert.deepEqual(await serving(["b2", "b3"]), ["b2", "b3"]);
  assert.equal(gw.stats().reloads, 0, "converged through the runtime API");
  assert.equal(pid(), firstPid);
  const running = await runningServers(socket, "h_a");
  assert.deepEqual([...running!.values()].filter((s) => s.enabled).map((s) => s.port).sort(), [new URL(b2!).port, new URL(b3!).port].sort());

  // routes written by an earlier version (no slots) are taken over: laid out fresh
  writeFileSync(join(dir, "routes.json"), JSON.stringify([["a", route([b1!])]]));
  gw = new HaproxyGateway({ dir, httpPort: port, httpsPort: 1 });
  assert.ok(gw.has("a"));
  await gw.set("a", route([b1!]));
  assert.deepEqual(await serving(["b1"]), ["b1"]);

  // a new gateway is a layout change: one reload (and both serve)
  const reloads = gw.stats().reloads;
  await gw.set("b", { fqdn: "other.test", backends: [b4!], tlsPassthrough: false });
  assert.equal(gw.stats().reloads, reloads + 1);
  assert.notEqual(pid(), firstPid);
  assert.deepEqual(await serving(["b1"]), ["b1"]);
  polling = false;
  await poller;
  assert.deepEqual(failures.filter((f) => !/ECONNRESET|socket hang up/.test(f)), [], "a reload may close an idle kept-alive connection, nothing else fails");
});
