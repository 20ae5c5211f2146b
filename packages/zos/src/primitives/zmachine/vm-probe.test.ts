// Real probes from inside a real network namespace (root; run under the VM lock): an HTTP server
// and a silent TCP server live in the namespace only, the prober reaches them through socat there.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { after, before, test } from "node:test";
import type { Deployment } from "@zgrid/types";
import { ProbeBusyError, vmProber } from "./vm-probe.ts";
import { VmNotHereError } from "./vm-control.ts";

// Needs root (a network namespace); the suite runs as root.
const skip = process.getuid?.() === 0 ? false : "needs root (a network namespace)";
const NS = `zprobe-${process.pid}`;
let server: ChildProcess;
const SERVER = `
const http = require("node:http"), net = require("node:net");
http.createServer((q, s) => { s.statusCode = q.url === "/bad" ? 500 : 200; s.end(process.argv[1]); }).listen(8080, "10.99.0.2");
net.createServer(() => {}).listen(8081, "10.99.0.2"); // accepts, never answers
setTimeout(() => console.log("up"), 100);`;

const deployment = (state: "ok" | "error" = "ok") => ({
  twin_id: 7, contract_id: 12, version: 0, metadata: "", description: "", expiration: 0, signature_requirement: { requests: [], weight_required: 1, signatures: [], signature_style: "" },
  workloads: [{ name: "web", type: "zmachine", version: 0, data: { network: { interfaces: [{ network: "net", ip: "10.99.0.2" }] } }, result: { state, message: "", data: {}, created: 0 } }],
}) as unknown as Deployment;

before(async () => {
  if (skip) return;
  assert.equal(spawnSync("ip", ["netns", "add", NS]).status, 0, "ip netns add (root)");
  spawnSync("ip", ["-n", NS, "link", "set", "lo", "up"]);
  spawnSync("ip", ["-n", NS, "addr", "add", "10.99.0.2/32", "dev", "lo"]);
  server = spawn("ip", ["netns", "exec", NS, process.execPath, "-e", SERVER, NS], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => server.stdout!.once("data", () => resolve()));
});
after(() => {
  if (skip) return;
  server?.kill("SIGKILL");
  spawnSync("ip", ["netns", "pids", NS], { encoding: "utf8" }).stdout?.split("\n").filter(Boolean).forEach((p) => spawnSync("kill", ["-9", p]));
  spawnSync("ip", ["netns", "del", NS]);
});

test("tcp and http probes from inside the twin's namespace, to its own VM only, bounded in time and number", { skip }, async () => {
  let d = deployment();
  const prober = vmProber({ engine: { get: () => d }, findNetwork: (_d, name) => (name === "net" ? { namespace: NS } : undefined), perTwin: 1 });
  const req = { contract_id: 12, name: "web", path: "/", timeout_ms: 1_500 };
  const ok = await prober.probe(7, { ...req, type: "http", port: 8080 });
  assert.equal(ok.ok, true, ok.detail);
  assert.equal(ok.status, 200);
  const bad = await prober.probe(7, { ...req, type: "http", port: 8080, path: "/bad" });
  assert.deepEqual([bad.ok, bad.status], [false, 500]);
  assert.equal((await prober.probe(7, { ...req, type: "tcp", port: 8080 })).ok, true);
  const refused = await prober.probe(7, { ...req, type: "tcp", port: 9 });
  assert.equal(refused.ok, false);
  assert.match(refused.detail, /refused/i);
  // the server lives only in the namespace: asked from the host, 10.99.0.2:8080 never gives its
  // answer (here the host may route it to an upstream proxy that accepts any connection), so the
  // probe's 200 above came from inside the namespace
  const fromHost = spawnSync("socat", ["-T", "2", "-", "TCP:10.99.0.2:8080,connect-timeout=2"], { input: "GET / HTTP/1.0\r\n\r\n", encoding: "utf8", timeout: 5_000 });
  assert.doesNotMatch(fromHost.stdout ?? "", new RegExp(NS), "the namespace's server is not reachable from the host");
  const inside = spawnSync("ip", ["netns", "exec", NS, "socat", "-T", "2", "-", "TCP:10.99.0.2:8080,connect-timeout=2"], { input: "GET / HTTP/1.0\r\n\r\n", encoding: "utf8", timeout: 5_000 });
  assert.match(inside.stdout, new RegExp(NS), "inside the namespace the server answers with its name");

  // a server that never answers: the probe gives up at its time limit; meanwhile a second probe of the same twin is refused
  const silent = prober.probe(7, { ...req, type: "http", port: 8081, timeout_ms: 800 });
  await assert.rejects(prober.probe(7, { ...req, type: "tcp", port: 8080 }), ProbeBusyError);
  const s = await silent;
  assert.equal(s.ok, false);
  assert.match(s.detail, /no answer within 800 ms/);
  assert.ok(s.ms < 10_000, `bounded: ${s.ms} ms`);

  // another twin's contract, an unknown VM, a VM not running: refused before any probe
  await assert.rejects(prober.probe(8, { ...req, type: "tcp", port: 8080 }), VmNotHereError);
  await assert.rejects(prober.probe(7, { ...req, name: "nope", type: "tcp", port: 8080 }), VmNotHereError);
  d = deployment("error");
  await assert.rejects(prober.probe(7, { ...req, type: "tcp", port: 8080 }), /not running/);
});
