import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { parseDeployment } from "../deployment/parse-deployment.ts";
import { generateWgKeyPair, planNetwork, wgKeyPairFromPrivate } from "./network-plan.ts";

const nodes = [
  { nodeId: 1, endpoint: "10.249.0.11", listenPort: 51820 },
  { nodeId: 2, endpoint: "10.249.0.12", listenPort: 51821 },
  { nodeId: 3, endpoint: "fd00::3", listenPort: 51822 },
];

test("keys are X25519 pairs as WireGuard encodes them", () => {
  const k = generateWgKeyPair();
  assert.match(k.privateKey, /^[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(wgKeyPairFromPrivate(k.privateKey), k);
  const wg = spawnSync("wg", ["pubkey"], { input: `${k.privateKey}\n`, encoding: "utf8" });
  if (wg.status === 0) assert.equal(wg.stdout.trim(), k.publicKey);
});

test("plans subnets, peers and a user access config", () => {
  const plan = planNetwork({ ipRange: "10.20.0.0/16", nodes, userAccess: { nodeId: 1 } });
  assert.deepEqual(plan.nodes.map((n) => n.subnet), ["10.20.2.0/24", "10.20.3.0/24", "10.20.4.0/24"]);
  const [a, b, c] = plan.nodes;
  assert.equal(plan.userAccess?.subnet, "10.20.5.0/24");
  assert.deepEqual(b!.workload.peers.map((p) => [p.subnet, p.endpoint, p.allowed_ips.join(",")]), [
    ["10.20.2.0/24", "10.249.0.11:51820", "10.20.2.0/24,10.20.5.0/24"],
    ["10.20.4.0/24", "[fd00::3]:51822", "10.20.4.0/24"],
  ]);
  assert.equal(a!.workload.peers.at(-1)?.wireguard_public_key, plan.userAccess?.keys.publicKey);
  assert.equal(c!.workload.peers[0]!.wireguard_public_key, a!.keys.publicKey);
  assert.match(plan.userAccess!.config, /Address = 10\.20\.5\.2\/24[\s\S]*PublicKey = .*\nAllowedIPs = 10\.20\.0\.0\/16\nEndpoint = 10\.249\.0\.11:51820/);
  // each node's workload is a valid network workload
  for (const n of plan.nodes) {
    parseDeployment({ version: 0, twin_id: 1, contract_id: 1, metadata: "", description: "",
      signature_requirement: { requests: [{ twin_id: 1, required: true, weight: 1 }], weight_required: 1 },
      workloads: [{ version: 0, name: "net", type: "network", data: n.workload }] });
  }
});

test("keeps given subnets and keys, refuses overlaps", () => {
  const first = planNetwork({ ipRange: "10.20.0.0/16", nodes: nodes.slice(0, 1) });
  const again = planNetwork({ ipRange: "10.20.0.0/16", nodes: [{ ...nodes[0]!, subnet: first.nodes[0]!.subnet, privateKey: first.nodes[0]!.keys.privateKey }, nodes[1]!] });
  assert.deepEqual(again.nodes[0]!.keys, first.nodes[0]!.keys);
  assert.equal(again.nodes[1]!.subnet, "10.20.3.0/24");
  assert.throws(() => planNetwork({ ipRange: "10.20.0.0/16", nodes: [{ ...nodes[0]!, subnet: "10.20.7.0/24" }, { ...nodes[1]!, subnet: "10.20.7.0/24" }] }), /used twice/);
  assert.throws(() => planNetwork({ ipRange: "10.20.0.0/16", nodes: [{ ...nodes[0]!, subnet: "10.21.7.0/24" }] }), /not a \/24 inside/);
  assert.throws(() => planNetwork({ ipRange: "10.20.0.0/24", nodes }), /not an IPv4 \/16/);
  assert.throws(() => planNetwork({ ipRange: "10.20.0.0/16", nodes: [nodes[0]!, nodes[0]!] }), /listed twice/);
});

test("re-planning with only the user's public key keeps the access peer and writes no config", () => {
  const first = planNetwork({ ipRange: "10.20.0.0/16", nodes: nodes.slice(0, 2), userAccess: { nodeId: 2, subnet: "10.20.255.0/24" } });
  const again = planNetwork({ ipRange: "10.20.0.0/16", nodes: nodes.slice(0, 2).map((n, i) => ({ ...n, subnet: first.nodes[i]!.subnet, privateKey: first.nodes[i]!.keys.privateKey })),
    userAccess: { nodeId: 2, subnet: "10.20.255.0/24", publicKey: first.userAccess!.keys.publicKey } });
  assert.equal(again.userAccess?.config, "");
  assert.deepEqual(again.nodes.map((n) => n.workload.peers), first.nodes.map((n) => n.workload.peers));
  assert.deepEqual(again.nodes[1]!.workload.peers.at(-1), { subnet: "10.20.255.0/24", wireguard_public_key: first.userAccess!.keys.publicKey, allowed_ips: ["10.20.255.0/24"], endpoint: "" });
});
