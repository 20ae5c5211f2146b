// WireGuard between network namespaces with the interfaces' sockets in the creating namespace
// (the node trick), kernel or wireguard-go, configured from a planNetwork plan; a third namespace
// joins as "the user's machine" with the plan's wg-quick access config. Deleting the links ends
// the wireguard-go processes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { runHost } from "../../hypervisor/host-command.ts";
import { planNetwork } from "@zgrid/types";
import { configureWireguard, deleteWireguardLink, ensureWireguardLink, hasKernelWireguard, linkInNamespace } from "./wireguard-link.ts";

const sh = (ns: string, ...a: string[]) => runHost("ip", ["netns", "exec", ns, ...a]);

test("two namespaces and a user joined over WireGuard from a plan", async (t) => {
  const tag = randomBytes(3).toString("hex");
  const nss = ["a", "b", "u"].map((x) => `zwt-${x}-${tag}`);
  const links = nss.map((_, i) => `zw${i}${tag}`);
  t.after(async () => {
    for (const [i, ns] of nss.entries()) await deleteWireguardLink(links[i]!, ns).catch(() => undefined);
    for (const ns of nss) spawnSync("ip", ["netns", "del", ns]);
  });
  for (const ns of nss) {
    await runHost("ip", ["netns", "add", ns]);
    await sh(ns, "ip", "link", "set", "lo", "up");
  }
  const ports = [41000 + Math.floor(Math.random() * 2000), 43000 + Math.floor(Math.random() * 2000)];
  const plan = planNetwork({ ipRange: "10.66.0.0/16", nodes: [0, 1].map((i) => ({ nodeId: i + 1, endpoint: "127.0.0.1", listenPort: ports[i]! })), userAccess: { nodeId: 1 } });
  for (const [i, node] of plan.nodes.entries()) {
    const ns = nss[i]!;
    const link = links[i]!;
    await ensureWireguardLink(link, ns);
    await ensureWireguardLink(link, ns); // idempotent
    assert.ok(await linkInNamespace(ns, link));
    await configureWireguard(link, ns, { privateKey: node.workload.wireguard_private_key, listenPort: node.workload.wireguard_listen_port,
      peers: node.workload.peers.map((p) => ({ publicKey: p.wireguard_public_key, allowedIps: p.allowed_ips, endpoint: p.endpoint })) });
    await sh(ns, "ip", "addr", "add", node.subnet.replace(/0\/24$/, "1/32"), "dev", link);
    await sh(ns, "ip", "link", "set", link, "up");
    await sh(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    for (const p of node.workload.peers) for (const a of p.allowed_ips) await sh(ns, "ip", "route", "replace", a, "dev", link);
  }
  // the user's machine: the wg-quick file without wg-quick's own keys (Address), as `wg setconf` takes it
  const access = plan.userAccess!;
  const u = nss[2]!;
  await ensureWireguardLink(links[2]!, u);
  const conf = access.config.split("\n").filter((l) => !l.startsWith("Address")).join("\n");
  const file = `/tmp/zwt-${tag}.conf`;
  writeFileSync(file, conf, { mode: 0o600 });
  t.after(() => (spawnSync("rm", ["-f", file]), undefined));
  await sh(u, "wg", "setconf", links[2]!, file);
  await sh(u, "ip", "addr", "add", `${access.address}/24`, "dev", links[2]!);
  await sh(u, "ip", "link", "set", links[2]!, "up");
  await sh(u, "ip", "route", "replace", plan.ipRange, "dev", links[2]!);

  const [a, b] = plan.nodes;
  const ping = (ns: string, ip: string) => spawnSync("ip", ["netns", "exec", ns, "ping", "-c", "1", "-W", "2", ip]).status === 0;
  const retry = async (ns: string, ip: string) => {
    for (let i = 0; i < 10; i++) if (ping(ns, ip)) return true;
    return false;
  };
  assert.ok(await retry(nss[0]!, b!.subnet.replace(/0\/24$/, "1")), "node A reaches node B");
  assert.ok(await retry(u, a!.subnet.replace(/0\/24$/, "1")), "the user reaches node A");
  assert.ok(await retry(u, b!.subnet.replace(/0\/24$/, "1")), "the user reaches node B through node A");

  // an update applies exactly the new peer list (wg syncconf): without peers node A is cut off
  await configureWireguard(links[0]!, nss[0]!, { privateKey: a!.workload.wireguard_private_key, listenPort: a!.workload.wireguard_listen_port, peers: [] });
  assert.equal((await sh(nss[0]!, "wg", "show", links[0]!, "peers")).stdout.trim(), "");
  assert.ok(!ping(nss[0]!, b!.subnet.replace(/0\/24$/, "1")), "no peer, no path");

  for (const [i, ns] of nss.entries()) await deleteWireguardLink(links[i]!, ns);
  await new Promise((r) => setTimeout(r, 500));
  for (const l of links) assert.notEqual(spawnSync("pgrep", ["-f", `^wireguard-go ${l}$`]).status, 0, `wireguard-go ${l} ended`);
});

// The race behind CI stop 30's "Protocol not supported": a wireguard-go daemon has bound its control
// socket but not listened yet. `wg` answers a refused connect by deleting the socket file (and
// wireguard-go exits when it does). Reproduced exactly: a socket bound, listening only 1.5 s later,
// then answering the UAPI's get/set (the two requests `wg syncconf` makes) as wireguard-go does.
test("configure waits for a control socket that accepts: a bound, not yet listening socket is never handed to wg", async (t) => {
  const name = `zwr${randomBytes(3).toString("hex")}`;
  const sock = `/var/run/wireguard/${name}.sock`;
  const uapi = [
    "import socket, time, sys",
    `s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(sock)}); print("bound", flush=True)`,
    "time.sleep(1.5); s.listen(4)",
    "while True:", // a probe connects and closes; wg's requests end with an empty line
    "    c, _ = s.accept(); req = b''",
    "    while not req.endswith(b'\\n\\n'):",
    "        b = c.recv(4096)",
    "        if not b: break",
    "        req += b",
    "    if req: c.sendall(b'errno=0\\n\\n')",
    "    c.close()",
  ].join("\n");
  mkdirSync("/var/run/wireguard", { recursive: true });
  const child = spawn("python3", ["-c", uapi], { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => { child.kill("SIGKILL"); rmSync(sock, { force: true }); });
  await new Promise<void>((r) => child.stdout.once("data", () => r()));
  if (!(await hasKernelWireguard())) {
    await configureWireguard(name, "unused-for-userspace", { privateKey: "aPxGwq8zERHQ3Q1cOZFdJ+cMJX1aKBeF6pz4YhFpRko=", listenPort: 51999, peers: [] });
    assert.ok(existsSync(sock), "the control socket is still there (wg never met a refused connect)");
  }
  // a daemon that is gone (no socket, no process) is a clear error at once, not 20 s of retries
  rmSync(sock, { force: true });
  const started = Date.now();
  if (!(await hasKernelWireguard())) {
    await assert.rejects(configureWireguard(name, "unused", { privateKey: "aPxGwq8zERHQ3Q1cOZFdJ+cMJX1aKBeF6pz4YhFpRko=", listenPort: 51999, peers: [] }), /wireguard-go zwr\w+ is not running/);
    assert.ok(Date.now() - started < 5_000);
  }
});

// CI stop 31: a wireguard-go link moved into its namespace while its daemon was still starting kills
// the daemon (measured by hand: moved, the daemon exits, a stale socket stays), and "does not
// accept on its control socket yet" followed for 20 s. Two racing reconciles and a daemon launched
// by a SIGKILLed predecessor are the two ways in; both must end with one serving daemon.
test("a wireguard-go still starting is waited for, never moved early: racing ensures and a predecessor's launch", async (t) => {
  if (await hasKernelWireguard()) return t.skip("kernel WireGuard: no userspace daemon to race");
  const tag = randomBytes(3).toString("hex");
  const ns = `zwq-${tag}`;
  const names = [`zwqa${tag}`, `zwqb${tag}`];
  t.after(async () => {
    for (const n of names) await deleteWireguardLink(n, ns).catch(() => undefined);
    spawnSync("ip", ["netns", "del", ns]);
  });
  await runHost("ip", ["netns", "add", ns]);
  const key = "aPxGwq8zERHQ3Q1cOZFdJ+cMJX1aKBeF6pz4YhFpRko=";
  // two reconciles of one network at once
  await Promise.all([ensureWireguardLink(names[0]!, ns), ensureWireguardLink(names[0]!, ns)]);
  // a daemon launched just before (a predecessor's, still starting), then ensured at once
  spawn("wireguard-go", [names[1]!], { env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" }, stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 5));
  await ensureWireguardLink(names[1]!, ns);
  for (const n of names) {
    assert.ok(await linkInNamespace(ns, n), `${n} is in the namespace`);
    await configureWireguard(n, ns, { privateKey: key, listenPort: 0, peers: [] });
    assert.equal(spawnSync("pgrep", ["-fc", `^wireguard-go ${n}$`], { encoding: "utf8" }).stdout.trim(), "1", `one daemon of ${n}`);
  }
});

test("delete ends a wireguard-go that is still starting: nothing is left, not even its socket file", async (t) => {
  if (await hasKernelWireguard()) return t.skip("kernel WireGuard: no userspace daemon");
  const name = `zwd${randomBytes(3).toString("hex")}`;
  t.after(() => spawnSync("pkill", ["-9", "-f", `^wireguard-go ${name}$`]));
  for (const delayMs of [0, 5, 30]) {
    spawn("wireguard-go", [name], { env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" }, stdio: "ignore" });
    await new Promise((r) => setTimeout(r, delayMs));
    await deleteWireguardLink(name, "zwd-no-such-namespace");
    await new Promise((r) => setTimeout(r, 300));
    assert.notEqual(spawnSync("pgrep", ["-f", `^wireguard-go ${name}$`]).status, 0, `no wireguard-go left (launched ${delayMs} ms before the delete)`);
    assert.ok(!existsSync(`/var/run/wireguard/${name}.sock`), "no socket file left");
  }
});
