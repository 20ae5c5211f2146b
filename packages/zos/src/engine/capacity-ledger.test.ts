import assert from "node:assert/strict";
import { test } from "node:test";
import { GiB, MiB, parseDeployment, type Deployment } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { freeCapacity, systemReserve, usedCapacity } from "./capacity-ledger.ts";

test("system reserve is max(10% RAM, 2 GiB)", () => {
  assert.equal(systemReserve(8 * GiB).mru, 2 * GiB);
  assert.equal(systemReserve(64 * GiB).mru, Math.floor(6.4 * GiB));
});

test("free capacity: total - reserve - live workloads; deleted and failed workloads free theirs", () => {
  const d = parseDeployment(sampleDeploymentJson());
  const total = { cru: 8, mru: 32 * GiB, sru: 500 * GiB, hru: 1000 * GiB, ipv4u: 0 };
  const live: Deployment = { ...d, workloads: d.workloads.map((w) => ({ ...w, result: { created: 1, state: "ok", message: "" } })) };
  // the sample's one network adds its wireguard-go process (8 MiB) to what is used and billed
  assert.deepEqual(usedCapacity([live]), { cru: 2, mru: 2 * GiB + 8 * MiB, sru: 12 * GiB, hru: 5 * GiB, ipv4u: 1 });
  assert.deepEqual(freeCapacity(total, [live], 1), { cru: 6, mru: 32 * GiB - Math.floor(3.2 * GiB) - 2 * GiB - 8 * MiB, sru: 488 * GiB, hru: 995 * GiB, ipv4u: 0 });
  assert.equal(freeCapacity(total, [live]).cru, 8 * 4 - 2, "vCPUs overcommit 4 per core by default");
  const gone: Deployment = { ...d, workloads: d.workloads.map((w) => ({ ...w, result: { created: 1, state: w.name === "vm" ? "deleted" : "error", message: "" } })) };
  assert.deepEqual(usedCapacity([gone]), { cru: 0, mru: 0, sru: 0, hru: 0, ipv4u: 0 });
});

test("every network's wireguard-go is billed: 64 networks hold 512 MiB more than their workloads", () => {
  const d = parseDeployment(sampleDeploymentJson());
  const net = d.workloads.find((w) => w.type === "network")!;
  const many: Deployment = { ...d, workloads: Array.from({ length: 64 }, (_, i) => ({ ...net, name: `n${i}`, result: { created: 1, state: "ok", message: "" } })) };
  assert.equal(usedCapacity([many]).mru, 64 * 8 * MiB);
});
