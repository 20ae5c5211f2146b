// Networks end to end through `zgrid` on a real local grid (two node daemons on the underlay):
// `zgrid network access` writes a wg-quick file; a network namespace standing in for the user's
// laptop (its own NIC on the underlay, wireguard-go configured from that file with `wg setconf` and
// ip commands, as wg-quick does) reaches the VMs' private IPs on both nodes over WireGuard; `--remove`
// takes it out; `vm ls` shows a VM's public IP; `network rm --node` leaves no stale peer on the other node.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { LocalGridInfo, NetworkAccess, VmInfo } from "@zgrid/client";
import { waitFor } from "./cli-e2e-helpers.ts";

const ZGRID = fileURLToPath(new URL("../bin/zgrid.ts", import.meta.url));
let dataDir: string;
let info: LocalGridInfo;

function zgrid(json: boolean, ...args: string[]) {
  const r = spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, ...(json ? ["--json"] : []), ...args], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ZGRID_LOG_LEVEL: "warn" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok<T>(...args: string[]): T {
  const r = zgrid(true, ...args);
  assert.equal(r.code, 0, `zgrid ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" });

/** Runs a command in the VM's private network namespace (inside its node host's mount namespace). */
function inVmNetwork(vm: VmInfo, ...cmd: string[]): string {
  const node = info.nodes.find((n) => n.nodeId === vm.nodeId)!;
  return sh("nsenter", [`--mount=/proc/${node.pid}/ns/mnt`, "ip", "netns", "exec", vm.namespace, ...cmd]).stdout;
}


/** The user's laptop: a network namespace with a NIC on the underlay and a wireguard-go interface. */
const LAPTOP = `zl-${process.pid % 100000}`;
const WG = "wgl0";
let wgGo: ChildProcess | undefined;
const inLaptop = (...cmd: string[]) => sh("nsenter", [`--net=/run/netns/${LAPTOP}`, ...cmd]);

function removeLaptop(): void {
  wgGo?.kill("SIGKILL");
  if (existsSync(`/run/netns/${LAPTOP}`)) sh("ip", ["netns", "del", LAPTOP]);
  sh("ip", ["link", "del", `${LAPTOP}h`]);
  rmSync(`/var/run/wireguard/${WG}.sock`, { force: true });
}

/** What wg-quick does with the file: Address and AllowedIPs become ip commands, the rest goes to `wg setconf`. */
async function joinFromFile(file: string): Promise<void> {
  const text = readFileSync(file, "utf8");
  const address = /^Address = (.+)$/m.exec(text)?.[1];
  const allowed = (/^AllowedIPs = (.+)$/m.exec(text)?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  assert.ok(address && allowed.length, `a wg-quick file with Address and AllowedIPs:\n${text}`);
  const stripped = join(dataDir, "laptop-wg.conf");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(stripped, text.split("\n").filter((l) => !/^(Address|DNS|MTU) =/.test(l)).join("\n"), { mode: 0o600 });
  if (inLaptop("ip", "link", "show", WG).status !== 0) {
    wgGo = spawn("nsenter", [`--net=/run/netns/${LAPTOP}`, "wireguard-go", "-f", WG], { stdio: "ignore" });
    await waitFor("wireguard-go's socket", () => existsSync(`/var/run/wireguard/${WG}.sock`), (x) => x, 10_000);
  }
  const set = inLaptop("wg", "setconf", WG, stripped);
  assert.equal(set.status, 0, set.stderr);
  inLaptop("ip", "addr", "replace", address, "dev", WG);
  inLaptop("ip", "link", "set", WG, "up");
  for (const a of allowed) inLaptop("ip", "route", "replace", a, "dev", WG);
}

describe("zgrid network access, public IPs in vm ls, removing a node from a network", { timeout: 1_800_000 }, () => {
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "zgrid-netaccess-e2e-"));
  });
  after(() => {
    removeLaptop();
    spawnSync(process.execPath, [ZGRID, "--data-dir", dataDir, "down"], { stdio: "ignore", timeout: 120_000 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  let a: VmInfo;
  let b: VmInfo;
  test("a laptop namespace reaches VMs on both nodes over WireGuard with the file `network access` wrote", async () => {
    info = ok<LocalGridInfo>("up", "--nodes", "2");
    const [n1, n2] = info.nodes.map((n) => n.nodeId) as [number, number];
    a = ok<VmInfo>("vm", "deploy", "va", "--node", String(n1), "--network", "lan");
    b = ok<VmInfo>("vm", "deploy", "vb", "--node", String(n2), "--network", "lan", "--public-ip");
    // `vm ls` shows the public IP (table and JSON)
    const table = zgrid(false, "vm", "ls");
    assert.match(table.stdout, /PUBLICIP/);
    assert.match(table.stdout, new RegExp(`vb .*${b.publicIp.replace(/[./]/g, "\\$&")}`));
    assert.equal(ok<VmInfo[]>("vm", "ls").find((v) => v.name === "vb")?.publicIp, b.publicIp);

    // the laptop: a namespace with an address on the underlay (no route into the private network)
    removeLaptop();
    const underlay = info.underlay!;
    const laptopIp = underlay.hostAddress.replace(/\.1$/, ".200");
    sh("ip", ["netns", "add", LAPTOP]);
    sh("ip", ["link", "add", `${LAPTOP}h`, "type", "veth", "peer", "name", "eth0", "netns", LAPTOP]);
    sh("ip", ["link", "set", `${LAPTOP}h`, "master", underlay.bridge, "up"]);
    inLaptop("ip", "link", "set", "lo", "up");
    inLaptop("ip", "link", "set", "eth0", "up");
    inLaptop("ip", "addr", "add", `${laptopIp}/16`, "dev", "eth0");
    assert.notEqual(inLaptop("curl", "-s", "-m", "2", `http://${a.ip}/`).status, 0, "no private network before access");

    const file = join(dataDir, "lan.conf");
    const acc = ok<NetworkAccess>("network", "access", "lan", "--out", file);
    assert.equal(acc.removed, false);
    assert.match(acc.subnet, /^10\.\d+\.255\.0\/24$/);
    assert.equal((readFileSync(file, "utf8").match(/PrivateKey = /g) ?? []).length, 1);
    await joinFromFile(file);
    for (const vm of [a, b]) {
      const page = await waitFor(`${vm.name} from the laptop`, () => inLaptop("curl", "-s", "-m", "3", `http://${vm.ip}/`).stdout, (s) => s.includes(`hello from ${vm.name}`));
      assert.match(page, new RegExp(`hello from ${vm.name}`));
    }
    // the node keeps the access peer: deploying another VM in the network does not drop it
    const peersOnA = () => inVmNetwork(a, "wg", "show", a.namespace.replace(/^n-/, "w-"), "peers").trim().split("\n").filter(Boolean).length;
    assert.equal(peersOnA(), 2, "node A peers with node B and the laptop");

    // human output prints the file
    const again = zgrid(false, "network", "access", "lan", "--out", file);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\[Interface\][\s\S]*\[Peer\][\s\S]*Endpoint = /);
    await joinFromFile(file);
    await waitFor("va with the new key", () => inLaptop("curl", "-s", "-m", "3", `http://${a.ip}/`).stdout, (s) => s.includes("hello from va"));

    const removed = ok<NetworkAccess>("network", "access", "lan", "--remove");
    assert.equal(removed.removed, true);
    await waitFor("node A to drop the laptop", peersOnA, (n) => n === 1);
    assert.notEqual(inLaptop("curl", "-s", "-m", "3", `http://${a.ip}/`).status, 0, "no access after --remove");
  });

  test("bad input: access to an unknown network or node", () => {
    const r = zgrid(true, "network", "access", "nope");
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /no network named 'nope'/);
    const n = zgrid(true, "network", "access", "lan", "--node", "77");
    assert.equal(n.code, 2, n.stdout);
    assert.match(n.stdout, /has no part on node 77/);
  });

  // FQDN gateways prove control of their domain by DNS (TXT _zgrid.<fqdn> = zgrid-twin=<id>): the
  // local grid runs a DNS server on the underlay that the nodes ask; `zgrid dns prove` publishes there.
  test("gateways from the CLI: FQDN to a public backend (after its DNS proof), TLS passthrough, refusals; a spec with compose-like ports", async () => {
    const gwNode = info.nodes.find((n) => n.index === 0)!; // the local grid's gateway node (has a domain)
    const curl = (host: string, port: number, scheme = "http", ...extra: string[]) => sh("curl", ["-s", "-m", "3", ...extra, "--resolve", `${host}:${port}:${gwNode.address}`, `${scheme}://${host}/`]);
    // an FQDN gateway to a public backend: an HTTP server on the laptop (an address on the underlay,
    // as a server on the internet would be)
    const laptopIp = info.underlay!.hostAddress.replace(/\.1$/, ".200");
    const www = join(dataDir, "laptop-www");
    const { mkdirSync, writeFileSync: write } = await import("node:fs");
    mkdirSync(www, { recursive: true });
    write(join(www, "index.html"), "hello from the laptop\n");
    const httpd = spawn("nsenter", [`--net=/run/netns/${LAPTOP}`, "busybox", "httpd", "-f", "-p", "8080", "-h", www], { stdio: "ignore" });
    try {
      // without the DNS proof the node refuses the domain, says which record is missing, and nothing is left
      const unproven = zgrid(true, "gw", "create", "blog", "--fqdn", "blog.example.org", "--backend", `http://${laptopIp}:8080`);
      assert.notEqual(unproven.code, 0, unproven.stdout);
      assert.match(unproven.stdout, /_zgrid\.blog\.example\.org/);
      assert.ok(!ok<Array<{ metadata?: { kind: string } }>>("contracts", "ls").some((c) => c.metadata?.kind === "gateway"), "the refused gateway left no contract");
      // a proof naming another twin is refused too
      ok("dns", "add", "_zgrid.blog.example.org", "--txt", `zgrid-twin=${info.user.twinId + 1}`);
      const other = zgrid(true, "gw", "create", "blog", "--fqdn", "blog.example.org", "--backend", `http://${laptopIp}:8080`);
      assert.notEqual(other.code, 0, other.stdout);
      assert.match(other.stdout, /does not name twin/);
      ok("dns", "rm", "_zgrid.blog.example.org");
      const proof = ok<{ name: string; type: string; value: string; published: boolean }>("dns", "prove", "blog.example.org");
      assert.deepEqual(proof, { name: "_zgrid.blog.example.org", type: "TXT", value: `zgrid-twin=${info.user.twinId}`, published: true });
      const blog = ok<{ fqdn: string; kind: string; nodeId: number; nameContractId: number }>("gw", "create", "blog", "--fqdn", "blog.example.org", "--backend", `http://${laptopIp}:8080`);
      assert.deepEqual([blog.fqdn, blog.kind, blog.nodeId, blog.nameContractId], ["blog.example.org", "fqdn", gwNode.nodeId, 0]);
      await waitFor("the FQDN gateway", () => curl("blog.example.org", 80).stdout, (x) => x.includes("hello from the laptop"));
    } finally {
      httpd.kill("SIGKILL");
    }
    // TLS passthrough to a TLS server on the laptop: the certificate the client sees is the backend's
    const key = join(dataDir, "tls.key");
    const cert = join(dataDir, "tls.crt");
    assert.equal(sh("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=tls.example.org"]).status, 0);
    const server = spawn("nsenter", [`--net=/run/netns/${LAPTOP}`, "openssl", "s_server", "-accept", "8443", "-cert", cert, "-key", key, "-www", "-quiet"], { stdio: "ignore" });
    try {
      ok("dns", "prove", "tls.example.org");
      ok("gw", "create", "tlsgw", "--fqdn", "tls.example.org", "--tls-passthrough", "--backend", `${laptopIp}:8443`);
      const r = await waitFor("TLS through the gateway", () => curl("tls.example.org", 443, "https", "-k", "-v"), (x) => x.stdout.includes("s_server"));
      assert.match(r.stderr, /subject: CN=tls\.example\.org/);
    } finally {
      server.kill("SIGKILL");
    }
    const gws = ok<Array<{ name: string; kind: string; fqdn: string }>>("gw", "ls");
    assert.deepEqual(gws.map((g) => [g.name, g.kind, g.fqdn]).sort(), [["blog", "fqdn", "blog.example.org"], ["tlsgw", "fqdn", "tls.example.org"]]);
    ok("gw", "rm", "blog");
    ok("gw", "rm", "tlsgw");
    // refusals before any contract
    const bad = (args: string[], re: RegExp) => {
      const r = zgrid(true, "gw", "create", ...args);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stdout, re);
    };
    bad(["x1x", "--vm", "va", "--backend", "http://1.2.3.4:80"], /either a VM or backends/);
    bad(["x1x", "--backend", "http://127.0.0.1:80"], /not loopback/);
    bad(["x1x", "--backend", "1.2.3.4:80"], /http:\/\/IP:port/);
    bad(["x1x", "--fqdn", "nodots", "--backend", "http://1.2.3.4:80"], /not a domain name/);
    assert.ok(!ok<Array<{ metadata?: { kind: string } }>>("contracts", "ls").some((c) => c.metadata?.kind === "gateway"));

    // a spec: a VM with compose-like ports becomes a name gateway on its node
    const spec = join(dataDir, "site.yaml");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(spec, ["project: site", "networks: [{ name: sitenet }]", "vms:", "  - name: sv", `    node: ${gwNode.nodeId}`, "    network: sitenet", "    flist: busybox", '    ports: ["site:80"]', ""].join("\n"));
    const applied = ok<{ gateways: Array<{ name: string; fqdn: string }> }>("apply", "-f", spec);
    const site = applied.gateways.find((g) => g.name === "site")!;
    assert.match(site.fqdn, /^site\.gw\./);
    await waitFor("the spec's gateway", () => curl(site.fqdn, 80).stdout, (x) => x.includes("hello from sv"));
    const again = ok<{ plan: Array<{ action: string; kind: string }> }>("apply", "-f", spec, "--dry-run");
    assert.ok(again.plan.every((x) => x.action === "keep"), JSON.stringify(again.plan));
    ok("delete", "-f", spec);
    assert.ok(!ok<Array<{ metadata?: { project?: string } }>>("contracts", "ls").some((c) => c.metadata?.project === "site"));
  });

  test("`network rm --node` refuses while a VM uses it, then leaves no stale peer on the other node", async () => {
    const used = zgrid(true, "network", "rm", "lan", "--node", String(b.nodeId));
    assert.equal(used.code, 2, used.stdout);
    assert.match(used.stdout, /used by vb/);
    ok("vm", "rm", "vb");
    const res = ok<{ cancelled: number[] }>("network", "rm", "lan", "--node", String(b.nodeId));
    assert.equal(res.cancelled.length, 1);
    await waitFor("node A to drop node B's peer", () => inVmNetwork(a, "wg", "show", a.namespace.replace(/^n-/, "w-"), "peers").trim(), (s) => s === "");
    const nets = ok<Array<{ name: string; parts: Array<{ nodeId: number }> }>>("network", "ls");
    assert.deepEqual(nets.find((n) => n.name === "lan")?.parts.map((p) => p.nodeId), [a.nodeId]);
    ok("vm", "rm", "va");
    ok("network", "rm", "lan");
  });
});
