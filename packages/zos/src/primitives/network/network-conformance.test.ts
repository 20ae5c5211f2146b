// The network manager against the manager conformance suite, for real (namespaces, bridges,
// veths, WireGuard, egress rules). It runs inside a scratch network namespace (this file re-runs
// itself there with `nsenter --net`), so the node-wide parts it makes (br-ndmz, NAT rules) vanish
// with that namespace. Needs root and the VM lock: flock /tmp/zgrid-vm.lock node --test <this file>
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { createLogger } from "@zgrid/log";
import { parseDeployment, type WorkloadOf } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { linkExists } from "../../hypervisor/tap.ts";
import { processesWith } from "../../testing/crash-checks.ts";
import { managerConformance } from "../../testing/manager-conformance.ts";
import { networkNames } from "../node-paths.ts";
import { networkManager } from "./network-manager.ts";

if (!process.env.ZGRID_SCRATCH_NS) {
  test("network manager conformance, in a scratch network namespace", () => {
    const ns = `zc-${randomBytes(3).toString("hex")}`;
    assert.equal(spawnSync("ip", ["netns", "add", ns]).status, 0);
    try {
      const r = spawnSync("nsenter", [`--net=/run/netns/${ns}`, process.execPath, "--test", "--test-reporter=spec", fileURLToPath(import.meta.url)], {
        // a fresh test run (not a child of this runner: NODE_TEST_CONTEXT would make it report here)
        encoding: "utf8", env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_TEST_CONTEXT")), ZGRID_SCRATCH_NS: ns }, timeout: 300_000,
      });
      assert.equal(r.status, 0, `conformance failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /pass 2\b/, `both conformance tests ran:\n${r.stdout}`);
    } finally {
      spawnSync("ip", ["netns", "del", ns]);
    }
  });
} else {
  const scope = `conformance-${process.env.ZGRID_SCRATCH_NS}`;
  const manager = networkManager({ nodeId: 99, scope });
  const deployment = { ...parseDeployment(sampleDeploymentJson({ twinId: 7 })), contract_id: 12 };
  const workload = { ...deployment.workloads.find((w) => w.type === "network")!, data: { ...(deployment.workloads.find((w) => w.type === "network")!.data as object), wireguard_listen_port: 40000 + (process.pid % 20000) } } as WorkloadOf<"network">;
  const n = networkNames(99, 7, workload.name, scope);
  managerConformance("network", () => ({
    manager, workload,
    context: { deployment, workloadId: `7-12-${workload.name}`, log: createLogger("test.network"), resultOf: () => undefined },
    halfProvision: async () => {
      // killed after the bridge and the namespace, before the veth and WireGuard
      spawnSync("ip", ["link", "add", n.bridge, "type", "bridge"]);
      spawnSync("ip", ["netns", "add", n.namespace]);
    },
    footprint: () => [
      ...[n.bridge, n.vethHost, `ve-${n.id}`, `w-${n.id}`].filter(linkExists),
      ...(existsSync(`/run/netns/${n.namespace}`) ? [n.namespace] : []),
      ...processesWith(`wireguard-go w-${n.id}`).map((p) => `wireguard-go ${p}`),
    ],
  }));
}
