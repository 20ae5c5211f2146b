// The ip manager against the manager conformance suite. An ip workload is a reservation: the
// address is the contract's (from the chain) and the zmachine's NIC on the public bridge holds it,
// so provision leaves nothing of its own on the host (`hostless`). What an earlier version left —
// the host side of a 1:1 NAT veth — is what a half-provisioned one leaves, and deprovision removes
// it. Runs inside a scratch network namespace with its own public bridge (this file re-runs itself
// there with `nsenter --net`). The contract's reserved IPs come from a small in-memory stand-in for
// the chain (zos-daemon.e2e and networks.e2e reserve them on the dev chain).
// Needs root and the VM lock: flock /tmp/zgrid-vm.lock node --test <this file>
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { createLogger } from "@zgrid/log";
import { parseDeployment, type WorkloadOf } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { linkExists } from "../../hypervisor/tap.ts";
import { managerConformance } from "../../testing/manager-conformance.ts";
import { ipLinkNames, ipManager, ipv6For } from "./ip-manager.ts";

if (!process.env.ZGRID_SCRATCH_NS) {
  test("ip manager conformance, in a scratch network namespace", () => {
    const ns = `zi-${randomBytes(3).toString("hex")}`;
    assert.equal(spawnSync("ip", ["netns", "add", ns]).status, 0);
    try {
      const r = spawnSync("nsenter", [`--net=/run/netns/${ns}`, process.execPath, "--test", "--test-reporter=spec", fileURLToPath(import.meta.url)], {
        encoding: "utf8", env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_TEST_CONTEXT")), ZGRID_SCRATCH_NS: ns }, timeout: 120_000,
      });
      assert.equal(r.status, 0, `conformance failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /pass 3\b/, `the three conformance tests ran:\n${r.stdout}`);
    } finally {
      spawnSync("ip", ["netns", "del", ns]);
    }
  });
} else {
  assert.equal(spawnSync("ip", ["link", "add", "br-pub", "type", "bridge"]).status, 0);
  const reserved = [{ ip: "185.69.0.10/24", gateway: "185.69.0.1" }];
  const chain = { getContract: async () => ({ publicIps: reserved }) };
  const ip6 = { cidr: "fd85:69::11/64", gateway: "fd85:69::1" };
  const base = parseDeployment(sampleDeploymentJson({ twinId: 7 }));
  const ipWorkload = (name: string, data: { v4: boolean; v6: boolean }) => ({ version: 0, name, type: "ip", metadata: "", description: "", data }) as WorkloadOf<"ip">;
  const workload = base.workloads.find((w) => w.type === "ip") as WorkloadOf<"ip">; // "pub", v4, held by the sample's zmachine
  const vm = base.workloads.find((w) => w.type === "zmachine")!.name;
  const second = ipWorkload("pub2", { v4: true, v6: false });
  const deployment = { ...base, contract_id: 12, workloads: [...base.workloads, second] };
  const workloadId = `7-12-${workload.name}`;
  const make = () => ipManager({ chain, publicBridge: "br-pub", ip6, findNetwork: () => undefined });
  const link = ipLinkNames(workloadId);
  managerConformance("ip", () => ({
    manager: make(),
    workload,
    context: { deployment, workloadId, log: createLogger("test.ip"), resultOf: () => undefined },
    hostless: true,
    footprint: () => [link.host].filter(linkExists),
    // an earlier version's 1:1 NAT: a veth whose host side stays on the node
    halfProvision: async () => {
      assert.equal(spawnSync("ip", ["link", "add", link.host, "type", "veth", "peer", "name", link.ns]).status, 0);
    },
    restarted: make,
    // two v4 addresses in a deployment whose contract reserved one
    refused: { workload: second, error: /reserves 1 public IPs but the deployment needs 2: create the contract with publicIps: 2/ },
    update: {
      workload: ipWorkload("pub", { v4: true, v6: true }),
      check(result) {
        assert.deepEqual(result, { ip: "185.69.0.10/24", gateway: "185.69.0.1", ip6: ipv6For(ip6.cidr, workloadId), gateway6: "fd85:69::1", bridge: "br-pub", zmachine: vm });
      },
    },
  }));
}
