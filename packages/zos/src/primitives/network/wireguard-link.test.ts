// WireGuard between network namespaces with the interfaces' sockets in the creating namespace
// (the node trick), kernel or wireguard-go, configured from a planNetwork plan; a third namespace
// joins as "the user's machine" with the plan's wg-quick access config. Deleting the links ends
// the wireguard-go processes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { runHost } from "../../hypervisor/host-command.ts";
import { planNetwork } from "@zgrid/types";
import { configureWireguard, deleteWireguardLink, ensureWireguardLink, linkInNamespace } from "./wireguard-link.ts";

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
