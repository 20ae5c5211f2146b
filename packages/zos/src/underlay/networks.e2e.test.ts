// Networks across nodes, end to end with real components: two node hosts on the underlay (network
// namespaces), a zosd process in each, one private WireGuard network spanning both, a busybox VM on
// each; the guest on node A fetches HTTP from the guest on node B over the private network. Then:
// refusals, deletes leave no interfaces or wireguard-go processes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { deploymentHashHex, parseDeployment, signDeployment, type Deployment } from "@zgrid/types";
import { networkNames } from "../primitives/node-paths.ts";
import { planNetwork, type NetworkPlan } from "@zgrid/types";
import type { Twin } from "../testing/node-fixture.ts";
import { startGridFixture, v6Prefix, type GridFixture, type GridNode } from "./grid-fixture.ts";

const MiB = 1024 ** 2;
const ENTRYPOINT = `#!/bin/sh
mkdir -p /www && echo "hello-from-$(hostname)" > /www/index.html
httpd -p 80 -h /www
echo "ZGRID-READY $(hostname)"
ip -o addr show | grep -E 'inet6? (185\\.|fd85:)' | sed 's/^/ZGRID-ADDR /'
ip route | sed 's/^/ZGRID-ROUTE /'
ip -6 route | grep default | sed 's/^/ZGRID-ROUTE6 /'
while true; do
  if [ -n "$PEER" ]; then
    r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 "$PEER" 80 | tail -n 1)
    echo "ZGRID-HTTP peer=$PEER body=$r"
  else
    echo "ZGRID-TICK $(hostname)"
  fi
  if [ -n "$OUTSIDE" ]; then
    r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 \${OUTSIDE%:*} \${OUTSIDE#*:} | tail -n 1)
    echo "ZGRID-EGRESS body=$r"
  fi
  sleep 2
done
`;

let g: GridFixture;

/** A tiny WebSocket server for the test (RFC 6455 handshake; unfragmented masked text frames). */
function startWsServer(host: string): Promise<{ server: Server; url: string; lines: string[] }> {
  const lines: string[] = [];
  const server = createServer((_req, res) => res.end("hello-from-underlay\n"));
  server.on("upgrade", (req, socket) => {
    const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + 4 + len) return;
        const mask = buf.subarray(off, off + 4);
        const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len).map((b, i) => b ^ mask[i % 4]!));
        if ((buf[0]! & 0x0f) === 1) lines.push(payload.toString("utf8"));
        buf = buf.subarray(off + 4 + len);
      }
    });
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, url: `ws://${host}:${(server.address() as AddressInfo).port}/logs`, lines })));
}

function httpGet(host: string, port: number, hostHeader: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/", headers: { host: hostHeader }, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}
let plan: NetworkPlan;

type Json = Record<string, unknown>;
function deploymentJson(twin: number, workloads: Json[], metadata: string) {
  return {
    version: 0, twin_id: twin, contract_id: 0, metadata, description: "",
    signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 },
    workloads: workloads.map((w) => ({ version: 0, ...w })),
  };
}

function vm(name: string, ip: string, env: Record<string, string>, extra: Json = {}): Json {
  return { name, type: "zmachine", data: {
    flist: g.flistUrl, network: { interfaces: [{ network: "net", ip }], ...extra }, size: 0,
    compute_capacity: { cpu: 1, memory: 256 * MiB }, mounts: [], entrypoint: "/start.sh", env,
  } };
}

async function deploy(owner: Twin, node: GridNode, json: ReturnType<typeof deploymentJson>, publicIps = 0): Promise<Deployment> {
  const d = parseDeployment(json, { externalNetworks: ["net"] });
  const contractId = await owner.client.createNodeContract({ nodeId: node.nodeId, deploymentHash: deploymentHashHex(d), publicIps });
  const signed = signDeployment({ ...d, contract_id: contractId }, owner.id, owner.key);
  await owner.bus.request(node.twinId, "zos.deployment.deploy", signed, { timeout: 20_000 });
  return signed;
}

const get = (node: GridNode, contractId: number) => g.user.bus.request<Deployment>(node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 });
const settled = (d: Deployment) => d.workloads.every((w) => w.result && w.result.state !== "init");

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn().catch((e: unknown) => e as T);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 400));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

async function settledOk(node: GridNode, contractId: number): Promise<Deployment> {
  const d = await waitFor("workloads to settle", () => get(node, contractId), (x) => !!x && settled(x));
  for (const w of d.workloads) assert.equal(w.result?.state, "ok", `${w.name}: ${w.result?.message}`);
  return d;
}

const consoleOf = (d: Deployment, name: string) => (d.workloads.find((w) => w.name === name)?.result?.data as { console: string }).console;
const readConsole = async (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");

describe("networks across nodes", { timeout: 300_000 }, () => {
  before(async () => {
    g = await startGridFixture({ nodes: 2, entrypoint: ENTRYPOINT, domain: "gw1.test" });
    g.trackNetwork(g.user.id, "net");
  });
  after(async () => {
    await g?.stop();
  });

  const contracts: Array<[GridNode, number]> = [];
  let ipA = "";
  let ws: Awaited<ReturnType<typeof startWsServer>>;

  test("a VM on node A reaches HTTP in a VM on node B over the private network; zlogs and a name gateway on A", async (t) => {
    ws = await startWsServer(g.underlay.hostAddress);
    t.after(() => ws.server.close());
    await g.user.client.createNameContract("web");
    const [a, b] = g.nodes as [GridNode, GridNode];
    plan = planNetwork({ ipRange: "10.31.0.0/16", nodes: g.nodes.map((n) => ({ nodeId: n.nodeId, endpoint: n.host.address, listenPort: 51830 })) });
    const [pa, pb] = plan.nodes;
    ipA = pa!.subnet.replace(/0\/24$/, "5");
    const ipB = pb!.subnet.replace(/0\/24$/, "5");
    const da = await deploy(g.user, a, deploymentJson(g.user.id, [
      { name: "net", type: "network", data: pa!.workload },
      vm("vma", ipA, { PEER: ipB }),
      { name: "logs", type: "zlogs", data: { zmachine: "vma", output: ws.url } },
      { name: "web", type: "gateway-name-proxy", data: { name: "web", backends: [`http://${ipA}:80`], network: "net" } },
    ], "net-a"));
    const db = await deploy(g.user, b, deploymentJson(g.user.id, [
      { name: "net", type: "network", data: pb!.workload },
      vm("vmb", ipB, { OUTSIDE: new URL(ws.url).host }),
      { name: "pub", type: "ip", data: { v4: true, v6: true } },
      vm("vmc", ipB.replace(/5$/, "6"), { PEER: ipA }, { public_ip: "pub" }),
    ], "net-b"), 1);
    contracts.push([a, da.contract_id], [b, db.contract_id]);
    const sa = await settledOk(a, da.contract_id);
    const sb = await settledOk(b, db.contract_id);
    const text = await waitFor("guest A's HTTP answer from guest B", () => readConsole(consoleOf(sa, "vma")), (t) => t.includes("body=hello-from-vmb"));
    assert.match(text, new RegExp(`ZGRID-HTTP peer=${ipB.replace(/\./g, "\\.")} body=hello-from-vmb`));
    // egress: guest B (no public IP) reaches a server on the underlay through the node's ndmz
    await waitFor("guest B's egress", () => readConsole(consoleOf(sb, "vmb")), (x) => x.includes("ZGRID-EGRESS body=hello-from-underlay"));
    // zlogs: the console lines arrive at the ws server
    await waitFor("console lines over ws", async () => ws.lines.join("\n"), (x) => x.includes("ZGRID-HTTP peer="));
    // the name gateway on node A serves VM A's HTTP (over the private network namespace)
    const res = await waitFor("the gateway", () => httpGet(a.host.address, 80, "web.gw1.test"), (r) => r?.status === 200);
    assert.equal(res.body.trim(), "hello-from-vma");
    assert.equal((await httpGet(a.host.address, 80, "other.gw1.test")).status, 404);
    // the third VM's public IP (from the contract's farm IPs) answers from the underlay
    const pub = (sb.workloads.find((w) => w.name === "pub")?.result?.data as { ip: string; gateway: string });
    assert.match(pub.ip, /^185\.69\.0\.\d+\/24$/);
    assert.equal(pub.gateway, "185.69.0.1");
    const direct = await waitFor("the public IP", () => httpGet(pub.ip.replace(/\/24$/, ""), 80, "x"), (r) => r?.status === 200);
    assert.equal(direct.body.trim(), "hello-from-vmc");
    // IPv6 from the farm's v6 range (the underlay's ULA standing in for a public range)
    const pub6 = (sb.workloads.find((w) => w.name === "pub")?.result?.data as { ip6: string; gateway6: string });
    assert.match(pub6.ip6, new RegExp(`^${v6Prefix(249)}[0-9a-f:]+/64$`));
    assert.equal(pub6.gateway6, `${v6Prefix(249)}1`);
    const v6 = await waitFor("the public IPv6", async () => spawnSync("curl", ["-s", "-m", "3", "-g", `http://[${pub6.ip6.split("/")[0]}]/`], { encoding: "utf8" }).stdout, (x) => x.includes("hello-from-vmc"));
    assert.equal(v6.trim(), "hello-from-vmc");
    // and the VM with the public IP still reaches the private network (node A) over WireGuard
    await waitFor("vmc's HTTP answer from vma", () => readConsole(consoleOf(sb, "vmc")), (x) => x.includes("body=hello-from-vma"));
    // the VM holds its public addresses on a NIC of its own (no NAT) and leaves through the farm gateway
    const vmcConsole = await readConsole(consoleOf(sb, "vmc")); // printed before its first HTTP line
    assert.match(vmcConsole, new RegExp(`ZGRID-ADDR \\d+: eth\\d+ +inet ${pub.ip.replace(/[./]/g, "\\$&")} `));
    assert.match(vmcConsole, /ZGRID-ROUTE default via 185\.69\.0\.1 dev eth\d/);
    assert.match(vmcConsole, new RegExp(`ZGRID-ADDR \\d+: eth\\d+ +inet6 ${pub6.ip6.replace(/\//, "\\/")} `));
    assert.match(vmcConsole, new RegExp(`ZGRID-ROUTE6 default via ${pub6.gateway6} dev eth\\d`));
  });

  test("refusals: a gateway name the twin does not hold, a loopback backend, a gateway on a node without domain", async () => {
    const [a, b] = g.nodes as [GridNode, GridNode];
    await g.stranger.client.createNameContract("taken");
    const gw = (name: string, backends = ["http://10.31.2.5:80"]) => ({ name: "gw", type: "gateway-name-proxy", data: { name, backends } });
    const d1 = await deploy(g.user, a, deploymentJson(g.user.id, [gw("taken")], "gw-taken"));
    const d2 = await deploy(g.user, a, deploymentJson(g.user.id, [gw("nobody")], "gw-nobody"));
    const d3 = await deploy(g.user, b, deploymentJson(g.user.id, [gw("web")], "gw-nodomain"));
    const msg = async (node: GridNode, id: number) => (await waitFor("an error", () => get(node, id), (x) => !!x && settled(x))).workloads[0]!.result?.message ?? "";
    assert.match(await msg(a, d1.contract_id), /name 'taken' is held by twin \d+, not by twin \d+/);
    assert.match(await msg(a, d2.contract_id), /name 'nobody' has no name contract/);
    assert.match(await msg(b, d3.contract_id), /not a gateway: it has no domain/);
    for (const id of [d1, d2, d3].map((d) => d.contract_id)) await g.user.client.cancelContract(id);
    assert.throws(() => parseDeployment(deploymentJson(g.user.id, [gw("web", ["http://127.0.0.1:80"])], "loop")), /not loopback/);
    // an FQDN gateway needs proof of control: refused without the TXT record, served with it
    const unproven = await deploy(g.user, a, deploymentJson(g.user.id, [{ name: "shop", type: "gateway-fqdn-proxy", data: { fqdn: "shop.example.org", backends: [`http://${ipA}:80`], network: "net" } }], "fqdn-unproven"));
    assert.match(await msg(a, unproven.contract_id), /cannot prove control of shop\.example\.org: .*_zgrid\.shop\.example\.org/);
    await g.user.client.cancelContract(unproven.contract_id);
    g.dns.txt.set("_zgrid.shop.example.org", [`zgrid-twin=${g.user.id}`]);
    // an FQDN gateway to VM A over the private network works; the stranger cannot use the user's network
    const fq = await deploy(g.user, a, deploymentJson(g.user.id, [{ name: "shop", type: "gateway-fqdn-proxy", data: { fqdn: "shop.example.org", backends: [`http://${ipA}:80`], network: "net" } }], "fqdn"));
    assert.equal((await waitFor("fqdn gateway", () => get(a, fq.contract_id), (x) => !!x && settled(x))).workloads[0]!.result?.state, "ok");
    assert.equal((await waitFor("fqdn route", () => httpGet(a.host.address, 80, "shop.example.org"), (r) => r?.status === 200)).body.trim(), "hello-from-vma");
    await g.user.client.cancelContract(fq.contract_id);
    const sj = deploymentJson(g.stranger.id, [{ name: "shop", type: "gateway-fqdn-proxy", data: { fqdn: "evil.example.org", backends: [`http://${ipA}:80`], network: "net" } }], "stranger-net");
    const sd = await deploy(g.stranger, a, sj).then((d) => d, (e: Error) => e);
    if (sd instanceof Error) assert.match(sd.message, /net/);
    else {
      const m = (await waitFor("stranger refused", () => g.stranger.bus.request<Deployment>(a.twinId, "zos.deployment.get", { contract_id: sd.contract_id }), (x) => !!x && settled(x))).workloads[0]!.result?.message ?? "";
      assert.match(m, /network 'net' of twin \d+ is not on this node/);
      await g.stranger.client.cancelContract(sd.contract_id);
    }
    // overlapping subnets in a network workload are refused before anything is stored
    const overlap = { ...plan.nodes[0]!.workload, peers: [{ ...plan.nodes[0]!.workload.peers[0]!, subnet: plan.nodes[0]!.subnet, allowed_ips: [plan.nodes[0]!.subnet] }] };
    assert.throws(() => parseDeployment(deploymentJson(g.user.id, [{ name: "net2", type: "network", data: overlap }], "overlap")), /a subnet no other node of the network uses/);
    // a public IP the contract did not reserve; more IPs than the farm's pool has
    const d4 = await deploy(g.user, b, deploymentJson(g.user.id, [{ name: "pub", type: "ip", data: { v4: true } }], "ip-unreserved"));
    assert.match(await msg(b, d4.contract_id), /reserves 0 public IPs but the deployment needs 1/);
    await g.user.client.cancelContract(d4.contract_id);
    await assert.rejects(g.user.client.createNodeContract({ nodeId: b.nodeId, deploymentHash: `0x${"cd".repeat(32)}`, publicIps: 9 }));
  });

  test("deleting the networks leaves no namespace, interface or wireguard-go process", async () => {
    for (const [node, id] of contracts.splice(0)) {
      await g.user.client.cancelContract(id);
      const names = networkNames(node.nodeId, g.user.id, "net", node.account);
      await waitFor("the network to be gone", async () => existsSync(`/run/netns/${names.namespace}`), (x) => !x);
      const links = spawnSync("ip", ["netns", "exec", node.host.namespace, "ip", "-o", "link"], { encoding: "utf8" }).stdout;
      assert.doesNotMatch(links, new RegExp(`${names.bridge}|${names.vethHost}|w-${names.id}|ve-${names.id}|zt|pu-`));
      assert.equal(spawnSync("pgrep", ["-f", `wireguard-go w-${names.id}`]).status, 1, "wireguard-go ended");
    }
    const [a] = g.nodes as [GridNode];
    await waitFor("haproxy to stop", async () => existsSync(`${a.dataDir}/gateway/haproxy.pid`), (x) => !x);
    await assert.rejects(httpGet(a.host.address, 80, "web.gw1.test"), /ECONNREFUSED/);
  });
});
